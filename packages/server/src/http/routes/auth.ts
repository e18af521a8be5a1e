import type { FastifyPluginAsync } from "fastify";
import { requireUser } from "../../vaults/vault-service.js";
import type { HttpDeps } from "../app.js";
import { noStore, principalOf } from "../app.js";

const uuidParam = (name: string) => ({ type: "object", required: [name], properties: { [name]: { type: "string" } } }) as const;

export const authRoutes =
  (deps: Pick<HttpDeps, "auth" | "signingKeys">): FastifyPluginAsync =>
  async (app) => {
    const { auth } = deps;

    app.post<{ Body: { api_key: string } }>(
      "/v1/auth/api-key-token",
      {
        config: { public: true },
        schema: { body: { type: "object", required: ["api_key"], properties: { api_key: { type: "string", minLength: 1, maxLength: 512 } } } },
      },
      async (request, reply) => noStore(reply).send(await auth.userToken(request.body.api_key)),
    );

    app.post<{ Body: { api_key: string; agent_id?: string } }>(
      "/v1/auth/agent-token",
      {
        config: { public: true },
        schema: {
          body: {
            type: "object",
            required: ["api_key"],
            properties: { api_key: { type: "string", minLength: 1, maxLength: 512 }, agent_id: { type: "string", maxLength: 64 } },
          },
        },
      },
      async (request, reply) => noStore(reply).send(await auth.agentToken(request.body.api_key, request.body.agent_id)),
    );

    app.get("/.well-known/jwks.json", { config: { public: true } }, async () => deps.signingKeys.jwks());

    app.post<{ Body: { name: string; scopes?: string[]; expires_at?: string } }>(
      "/v1/auth/api-keys",
      {
        schema: {
          body: {
            type: "object",
            required: ["name"],
            properties: {
              name: { type: "string", minLength: 1, maxLength: 200 },
              scopes: { type: "array", items: { type: "string", maxLength: 200 }, maxItems: 100 },
              expires_at: { type: "string", format: "date-time" },
            },
          },
        },
      },
      async (request, reply) => {
        const user = principalOf(request);
        requireUser(user, "manage API keys");
        return noStore(reply).code(201).send(await auth.createKey(user, request.body));
      },
    );

    app.get("/v1/auth/api-keys", async (request) => {
      const user = principalOf(request);
      requireUser(user, "manage API keys");
      return { keys: await auth.listKeys(user) };
    });

    app.delete<{ Params: { key_id: string } }>("/v1/auth/api-keys/:key_id", { schema: { params: uuidParam("key_id") } }, async (request, reply) => {
      const user = principalOf(request);
      requireUser(user, "manage API keys");
      await auth.revokeKey(user, request.params.key_id);
      return reply.code(204).send();
    });
  };
