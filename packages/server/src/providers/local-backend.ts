/** `{"backend": "local", "key_file": "…"}`: the development provider with a configured key file. */
import { resolve } from "node:path";
import { fieldReader, type Backend } from "./backend.js";
import { createLocalProvider } from "./local.js";

export const localBackend: Backend<{ keyFile: string }> = {
  name: "local",
  parse(slot, fields, ctx) {
    const read = fieldReader(slot, "local", fields, ["key_file"]);
    return { keyFile: resolve(ctx.configDir, read.string("key_file")) };
  },
  trustDomain: (config) => `file:${config.keyFile}`,
  keyFile: (config) => config.keyFile,
  create: async (slot, config) => createLocalProvider(slot, config.keyFile),
};
