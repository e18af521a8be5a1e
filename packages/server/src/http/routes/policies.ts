import type { FastifyPluginAsync } from "fastify";
import {
  createPolicyBody,
  documentOnlySerializer,
  noContentSchema,
  policyListResponse,
  policyParams,
  policySchema,
  problemResponses,
  updatePolicyBody,
  vaultParams,
  type CreatePolicyBody,
  type UpdatePolicyBody,
} from "@shardvault/api";
import type { HttpDeps } from "../deps.js";
import { principalOf } from "../request.js";

/** Policies (access grants) of a vault, as 1claw's SDK (`access.*`) and MCP server (`grant_access`) call them. */
export const policyRoutes =
  (deps: Pick<HttpDeps, "policies">): FastifyPluginAsync =>
  async (app) => {
    const { policies } = deps;
    // The schemas come from @shardvault/api; response schemas document the API and do not filter answers.
    app.setSerializerCompiler(documentOnlySerializer);

    app.post<{ Params: { vault_id: string }; Body: CreatePolicyBody }>(
      "/v1/vaults/:vault_id/policies",
      { schema: { params: vaultParams, body: createPolicyBody, response: { 201: policySchema, ...problemResponses } } },
      async (request, reply) => reply.code(201).send(await policies.create(principalOf(request), request.params.vault_id, request.body)),
    );

    app.get<{ Params: { vault_id: string } }>(
      "/v1/vaults/:vault_id/policies",
      { schema: { params: vaultParams, response: { 200: policyListResponse, ...problemResponses } } },
      async (request) => ({ policies: await policies.list(principalOf(request), request.params.vault_id) }),
    );

    app.put<{ Params: { vault_id: string; policy_id: string }; Body: UpdatePolicyBody }>(
      "/v1/vaults/:vault_id/policies/:policy_id",
      { schema: { params: policyParams, body: updatePolicyBody, response: { 200: policySchema, ...problemResponses } } },
      async (request) => policies.update(principalOf(request), request.params.vault_id, request.params.policy_id, request.body),
    );

    app.delete<{ Params: { vault_id: string; policy_id: string } }>(
      "/v1/vaults/:vault_id/policies/:policy_id",
      { schema: { params: policyParams, response: { 204: noContentSchema, ...problemResponses } } },
      async (request, reply) => {
        await policies.remove(principalOf(request), request.params.vault_id, request.params.policy_id);
        return reply.code(204).send();
      },
    );
  };
