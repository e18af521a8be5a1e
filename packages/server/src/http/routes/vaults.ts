import type { FastifyPluginAsync } from "fastify";
import {
  createVaultBody,
  documentOnlySerializer,
  enableMpcBody,
  noContentSchema,
  problemResponses,
  vaultListResponse,
  vaultMpcResponse,
  vaultParams,
  vaultSchema,
} from "@shardvault/api";
import type { EnableMpcBody } from "../../mpc/mpc-service.js";
import type { HttpDeps } from "../deps.js";
import { noStore, principalOf } from "../request.js";

export const vaultRoutes =
  (deps: Pick<HttpDeps, "vaults" | "mpc">): FastifyPluginAsync =>
  async (app) => {
    // The schemas come from @shardvault/api; response schemas document the API and do not filter answers.
    app.setSerializerCompiler(documentOnlySerializer);

    app.post<{ Body: { name: string; description?: string } & EnableMpcBody }>(
      "/v1/vaults",
      {
        schema: { body: createVaultBody, response: { 201: vaultSchema, ...problemResponses } },
      },
      async (request, reply) => {
        // Checked before anything is created: the plan, the mode and its provider slots.
        const mpc = deps.mpc.resolve(request.body);
        return reply.code(201).send(await deps.vaults.create(principalOf(request), request.body, mpc));
      },
    );

    app.get("/v1/vaults", { schema: { response: { 200: vaultListResponse, ...problemResponses } } }, async (request) => ({
      vaults: await deps.vaults.list(principalOf(request)),
    }));

    app.get<{ Params: { vault_id: string } }>("/v1/vaults/:vault_id", { schema: { params: vaultParams, response: { 200: vaultSchema, ...problemResponses } } }, async (request) =>
      deps.vaults.get(principalOf(request), request.params.vault_id),
    );

    app.delete<{ Params: { vault_id: string } }>("/v1/vaults/:vault_id", { schema: { params: vaultParams, response: { 204: noContentSchema, ...problemResponses } } }, async (request, reply) => {
      await deps.vaults.remove(principalOf(request), request.params.vault_id);
      return reply.code(204).send();
    });

    app.post<{ Params: { vault_id: string }; Body: EnableMpcBody }>(
      "/v1/vaults/:vault_id/mpc",
      { schema: { params: vaultParams, body: enableMpcBody, response: { 200: vaultMpcResponse, ...problemResponses } } },
      async (request, reply) => {
        const { vault, client_shares } = await deps.mpc.enable(principalOf(request), request.params.vault_id, request.body);
        // Client shares of re-protected versions are shown here once.
        return noStore(reply).send(client_shares ? { ...vault, client_shares } : vault);
      },
    );
  };
