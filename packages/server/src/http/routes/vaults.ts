import type { FastifyPluginAsync } from "fastify";
import type { EnableMpcBody } from "../../mpc/mpc-service.js";
import { CUSTODY_MODE_NAMES, MPC_CUSTODY_VALUES } from "../../mpc/modes.js";
import type { HttpDeps } from "../app.js";
import { noStore, principalOf } from "../app.js";

const vaultParams = {
  type: "object",
  required: ["vault_id"],
  properties: { vault_id: { type: "string" } },
} as const;

/** Both body shapes clients send: the seed's `custody_mode` and 1claw's typed SDK's `mpc_custody`. */
const mpcFields = {
  custody_mode: { type: "string", enum: CUSTODY_MODE_NAMES },
  mpc_custody: { type: "string", enum: MPC_CUSTODY_VALUES },
  providers: { type: "array", items: { type: "string", maxLength: 64 }, maxItems: 16 },
} as const;

export const vaultRoutes =
  (deps: Pick<HttpDeps, "vaults" | "mpc">): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Body: { name: string; description?: string } & EnableMpcBody }>(
      "/v1/vaults",
      {
        schema: {
          body: {
            type: "object",
            required: ["name"],
            properties: {
              name: { type: "string", minLength: 1, maxLength: 200 },
              description: { type: "string", maxLength: 2000 },
              ...mpcFields,
            },
          },
        },
      },
      async (request, reply) => {
        // Checked before anything is created: the plan, the mode and its provider slots.
        const mpc = deps.mpc.resolve(request.body);
        return reply.code(201).send(await deps.vaults.create(principalOf(request), request.body, mpc));
      },
    );

    app.get("/v1/vaults", async (request) => ({ vaults: await deps.vaults.list(principalOf(request)) }));

    app.get<{ Params: { vault_id: string } }>("/v1/vaults/:vault_id", { schema: { params: vaultParams } }, async (request) =>
      deps.vaults.get(principalOf(request), request.params.vault_id),
    );

    app.delete<{ Params: { vault_id: string } }>("/v1/vaults/:vault_id", { schema: { params: vaultParams } }, async (request, reply) => {
      await deps.vaults.remove(principalOf(request), request.params.vault_id);
      return reply.code(204).send();
    });

    app.post<{ Params: { vault_id: string }; Body: EnableMpcBody }>(
      "/v1/vaults/:vault_id/mpc",
      { schema: { params: vaultParams, body: { type: "object", properties: mpcFields } } },
      async (request, reply) => {
        const { vault, client_shares } = await deps.mpc.enable(principalOf(request), request.params.vault_id, request.body);
        // Client shares of re-protected versions are shown here once.
        return noStore(reply).send(client_shares ? { ...vault, client_shares } : vault);
      },
    );
  };
