import type { FastifyPluginAsync } from "fastify";
import type { HttpDeps } from "../app.js";
import { principalOf } from "../app.js";

const vaultParams = {
  type: "object",
  required: ["vault_id"],
  properties: { vault_id: { type: "string" } },
} as const;

export const vaultRoutes =
  (deps: Pick<HttpDeps, "vaults">): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Body: { name: string; description?: string } }>(
      "/v1/vaults",
      {
        schema: {
          body: {
            type: "object",
            required: ["name"],
            properties: {
              name: { type: "string", minLength: 1, maxLength: 200 },
              description: { type: "string", maxLength: 2000 },
            },
          },
        },
      },
      async (request, reply) => reply.code(201).send(await deps.vaults.create(principalOf(request), request.body)),
    );

    app.get("/v1/vaults", async (request) => ({ vaults: await deps.vaults.list(principalOf(request)) }));

    app.get<{ Params: { vault_id: string } }>("/v1/vaults/:vault_id", { schema: { params: vaultParams } }, async (request) =>
      deps.vaults.get(principalOf(request), request.params.vault_id),
    );

    app.delete<{ Params: { vault_id: string } }>("/v1/vaults/:vault_id", { schema: { params: vaultParams } }, async (request, reply) => {
      await deps.vaults.remove(principalOf(request), request.params.vault_id);
      return reply.code(204).send();
    });
  };
