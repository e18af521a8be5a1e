import type { FastifyPluginAsync } from "fastify";
import type { AgentInput } from "../../agents/agent-service.js";
import { forbidden } from "../../errors.js";
import { requireUser } from "../../vaults/vault-service.js";
import type { HttpDeps } from "../app.js";
import { noStore, principalOf } from "../app.js";

const agentFields = {
  name: { type: "string", minLength: 1, maxLength: 200 },
  description: { type: "string", maxLength: 2000 },
  scopes: { type: "array", items: { type: "string", maxLength: 200 }, maxItems: 100 },
  vault_ids: { type: "array", items: { type: "string" }, maxItems: 1000 },
  expires_at: { type: ["string", "null"], format: "date-time" },
  token_ttl_seconds: { type: ["integer", "null"], minimum: 60, maximum: 86400 },
} as const;
const agentParams = { type: "object", required: ["agent_id"], properties: { agent_id: { type: "string" } } } as const;

export const agentRoutes =
  (deps: Pick<HttpDeps, "agents">): FastifyPluginAsync =>
  async (app) => {
    const { agents } = deps;
    const user = (request: Parameters<typeof principalOf>[0]) => {
      const principal = principalOf(request);
      requireUser(principal, "manage agents");
      return principal;
    };

    app.post<{ Body: AgentInput & { name: string } }>(
      "/v1/agents",
      { schema: { body: { type: "object", required: ["name"], properties: agentFields } } },
      async (request, reply) => noStore(reply).code(201).send(await agents.create(user(request), request.body)),
    );

    app.get("/v1/agents", async (request) => ({ agents: await agents.list(user(request)) }));

    app.get("/v1/agents/me", async (request) => {
      const principal = principalOf(request);
      if (principal.type !== "agent") throw forbidden("forbidden", "only an agent token has an agent identity");
      return agents.get(principal, principal.id);
    });

    app.get<{ Params: { agent_id: string } }>("/v1/agents/:agent_id", { schema: { params: agentParams } }, async (request) =>
      agents.get(user(request), request.params.agent_id),
    );

    app.patch<{ Params: { agent_id: string }; Body: AgentInput }>(
      "/v1/agents/:agent_id",
      { schema: { params: agentParams, body: { type: "object", properties: { ...agentFields, is_active: { type: "boolean" } } } } },
      async (request) => agents.update(user(request), request.params.agent_id, request.body),
    );

    app.delete<{ Params: { agent_id: string } }>("/v1/agents/:agent_id", { schema: { params: agentParams } }, async (request, reply) => {
      await agents.remove(user(request), request.params.agent_id);
      return reply.code(204).send();
    });

    app.post<{ Params: { agent_id: string } }>("/v1/agents/:agent_id/rotate-key", { schema: { params: agentParams } }, async (request, reply) =>
      noStore(reply).send(await agents.rotateKey(user(request), request.params.agent_id)),
    );
  };
