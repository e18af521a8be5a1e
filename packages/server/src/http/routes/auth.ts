import type { FastifyPluginAsync } from "fastify";
import {
  agentTokenBody,
  agentTokenResponse,
  apiKeyCreatedResponse,
  apiKeyListResponse,
  apiKeyTokenBody,
  createApiKeyBody,
  documentOnlySerializer,
  jwksResponse,
  keyIdParams,
  noContentSchema,
  problemResponses,
  signInBody,
  tokenResponse,
} from "@shardvault/api";
import { requireUser } from "../../auth/roles.js";
import type { HttpDeps } from "../deps.js";
import { noStore, principalOf } from "../request.js";

export const authRoutes =
  (deps: Pick<HttpDeps, "auth" | "signingKeys">): FastifyPluginAsync =>
  async (app) => {
    const { auth } = deps;
    // The schemas come from @shardvault/api; response schemas document the API and do not filter answers.
    app.setSerializerCompiler(documentOnlySerializer);

    app.post<{ Body: { api_key: string } }>(
      "/v1/auth/api-key-token",
      {
        config: { public: true, rateLimited: "token_exchange" },
        schema: { body: apiKeyTokenBody, response: { 200: tokenResponse, ...problemResponses } },
      },
      async (request, reply) => noStore(reply).send(await auth.userToken(request.body.api_key)),
    );

    app.post<{ Body: { api_key: string; agent_id?: string } }>(
      "/v1/auth/agent-token",
      {
        config: { public: true, rateLimited: "token_exchange" },
        schema: { body: agentTokenBody, response: { 200: agentTokenResponse, ...problemResponses } },
      },
      async (request, reply) => noStore(reply).send(await auth.agentToken(request.body.api_key, request.body.agent_id)),
    );

    // Sign-in by email and password; every mismatch is the same 401 (auth-service).
    app.post<{ Body: { email: string; password: string } }>(
      "/v1/auth/token",
      { config: { public: true, rateLimited: "sign_in" }, schema: { body: signInBody, response: { 200: tokenResponse, ...problemResponses } } },
      async (request, reply) => noStore(reply).send(await auth.signIn(request.body.email, request.body.password, request.ip)),
    );

    app.get("/.well-known/jwks.json", { config: { public: true }, schema: { response: { 200: jwksResponse } } }, async () => deps.signingKeys.jwks());

    app.post<{ Body: { name: string; scopes?: string[]; expires_at?: string } }>(
      "/v1/auth/api-keys",
      {
        schema: { body: createApiKeyBody, response: { 201: apiKeyCreatedResponse, ...problemResponses } },
      },
      async (request, reply) => {
        const user = principalOf(request);
        requireUser(user, "manage API keys");
        return noStore(reply).code(201).send(await auth.createKey(user, request.body));
      },
    );

    app.get("/v1/auth/api-keys", { schema: { response: { 200: apiKeyListResponse, ...problemResponses } } }, async (request) => {
      const user = principalOf(request);
      requireUser(user, "manage API keys");
      return { keys: await auth.listKeys(user) };
    });

    app.delete<{ Params: { key_id: string } }>("/v1/auth/api-keys/:key_id", { schema: { params: keyIdParams, response: { 204: noContentSchema, ...problemResponses } } }, async (request, reply) => {
      const user = principalOf(request);
      requireUser(user, "manage API keys");
      await auth.revokeKey(user, request.params.key_id);
      return reply.code(204).send();
    });
  };
