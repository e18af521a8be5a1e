import type { FastifyPluginAsync } from "fastify";
import {
  agentListResponse,
  agentParams,
  agentSchema,
  agentWithKeyResponse,
  createAgentBody,
  documentOnlySerializer,
  noContentSchema,
  problemResponses,
  updateAgentBody,
} from "@shardvault/api";
import type { AgentInput } from "../../agents/agent-service.js";
import { forbidden } from "../../errors.js";
import { requireAdmin } from "../../auth/roles.js";
import type { HttpDeps } from "../deps.js";
import { noStore, principalOf } from "../request.js";

export const agentRoutes =
  (deps: Pick<HttpDeps, "agents">): FastifyPluginAsync =>
  async (app) => {
    const { agents } = deps;
    // The schemas come from @shardvault/api; response schemas document the API and do not filter answers.
    app.setSerializerCompiler(documentOnlySerializer);
    const user = (request: Parameters<typeof principalOf>[0]) => {
      const principal = principalOf(request);
      requireAdmin(principal, "manage agents");
      return principal;
    };

    app.post<{ Body: AgentInput & { name: string } }>(
      "/v1/agents",
      { schema: { body: createAgentBody, response: { 201: agentWithKeyResponse, ...problemResponses } } },
      async (request, reply) => noStore(reply).code(201).send(await agents.create(user(request), request.body)),
    );

    app.get("/v1/agents", { schema: { response: { 200: agentListResponse, ...problemResponses } } }, async (request) => ({ agents: await agents.list(user(request)) }));

    app.get("/v1/agents/me", { schema: { response: { 200: agentSchema, ...problemResponses } } }, async (request) => {
      const principal = principalOf(request);
      if (principal.type !== "agent") throw forbidden("forbidden", "only an agent token has an agent identity");
      return agents.get(principal, principal.id);
    });

    app.get<{ Params: { agent_id: string } }>("/v1/agents/:agent_id", { schema: { params: agentParams, response: { 200: agentSchema, ...problemResponses } } }, async (request) =>
      agents.get(user(request), request.params.agent_id),
    );

    app.patch<{ Params: { agent_id: string }; Body: AgentInput }>(
      "/v1/agents/:agent_id",
      { schema: { params: agentParams, body: updateAgentBody, response: { 200: agentSchema, ...problemResponses } } },
      async (request) => agents.update(user(request), request.params.agent_id, request.body),
    );

    app.delete<{ Params: { agent_id: string } }>("/v1/agents/:agent_id", { schema: { params: agentParams, response: { 204: noContentSchema, ...problemResponses } } }, async (request, reply) => {
      await agents.remove(user(request), request.params.agent_id);
      return reply.code(204).send();
    });

    app.post<{ Params: { agent_id: string } }>("/v1/agents/:agent_id/rotate-key", { schema: { params: agentParams, response: { 200: agentWithKeyResponse, ...problemResponses } } }, async (request, reply) =>
      noStore(reply).send(await agents.rotateKey(user(request), request.params.agent_id)),
    );
  };
