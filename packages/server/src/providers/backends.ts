/** Every backend a configuration file may name, by its `backend` value. */
import type { Backend } from "./backend.js";
import { localBackend } from "./local-backend.js";

export const BACKENDS: ReadonlyMap<string, Backend<unknown>> = new Map<string, Backend<any>>([
  ["local", localBackend],
]);
