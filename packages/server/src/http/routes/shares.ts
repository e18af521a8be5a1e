import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import {
  createShareBody,
  documentOnlySerializer,
  noContentSchema,
  problemResponses,
  secretIdParams,
  shareCreatedResponse,
  sharedSecretResponse,
  shareIdParams,
  shareListResponse,
  type CreateShareBody,
} from "@shardvault/api";
import { wipe } from "@shardvault/crypto";
import type { HttpDeps } from "../deps.js";
import { noStore, principalOf } from "../request.js";

type ShareParams = { share_id: string };

/** A header's value as sent; Node reads header bytes as Latin-1, so `utf8` recovers what a client sent as UTF-8. */
function header(request: FastifyRequest, name: string, utf8 = false): string | undefined {
  const raw = request.headers[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined || !utf8 ? value : Buffer.from(value, "latin1").toString("utf8");
}

/** Sharing one secret version: creating, opening (public for link shares), revoking, the lists, the recipient's answer. */
export const shareRoutes =
  (deps: Pick<HttpDeps, "shares" | "authenticate" | "publicUrl">): FastifyPluginAsync =>
  async (app) => {
    const { shares } = deps;
    // The schemas come from @shardvault/api; response schemas document the API and do not filter answers.
    app.setSerializerCompiler(documentOnlySerializer);

    app.post<{ Params: { secret_id: string }; Body: CreateShareBody }>(
      "/v1/secrets/:secret_id/share",
      {
        config: { rateLimited: "share_creation" },
        schema: { params: secretIdParams, body: createShareBody, response: { 201: shareCreatedResponse, ...problemResponses } },
      },
      async (request, reply) => {
        // Links point at the dashboard's page for the share, on this server unless SHARDVAULT_PUBLIC_URL says otherwise.
        const baseUrl = deps.publicUrl ?? `${request.protocol}://${request.host}`;
        const clientShare = header(request, "x-client-share");
        const created = await shares.create(principalOf(request), request.params.secret_id, request.body, { baseUrl, ...(clientShare !== undefined ? { clientShare } : {}) });
        return noStore(reply).code(201).send(created);
      },
    );

    // Public: link shares open without a token; shares made for a user or an agent ask for the recipient's.
    app.get<{ Params: ShareParams }>(
      "/v1/share/:share_id",
      { config: { public: true, rateLimited: "share_opening" }, schema: { params: shareIdParams, response: { 200: sharedSecretResponse, ...problemResponses } } },
      async (request, reply) => {
        const passphrase = header(request, "x-share-passphrase", true);
        const shareKey = header(request, "x-share-key");
        const opened = await shares.open(request.params.share_id, {
          identify: () => deps.authenticate(request.headers.authorization, { ip: request.ip }),
          ip: request.ip,
          ...(passphrase !== undefined ? { passphrase } : {}),
          ...(shareKey !== undefined ? { shareKey } : {}),
        });
        const { value, ...rest } = opened;
        const text = value.toString("utf8");
        wipe(value);
        return noStore(reply).send({ ...rest, value: text });
      },
    );

    app.delete<{ Params: ShareParams }>("/v1/share/:share_id", { schema: { params: shareIdParams, response: { 204: noContentSchema, ...problemResponses } } }, async (request, reply) => {
      await shares.revoke(principalOf(request), request.params.share_id);
      return reply.code(204).send();
    });

    app.get("/v1/shares/outbound", { schema: { response: { 200: shareListResponse, ...problemResponses } } }, async (request) => ({
      shares: await shares.listOutbound(principalOf(request)),
    }));

    app.get("/v1/shares/inbound", { schema: { response: { 200: shareListResponse, ...problemResponses } } }, async (request) => ({
      shares: await shares.listInbound(principalOf(request)),
    }));

    for (const answer of ["accept", "decline"] as const) {
      app.post<{ Params: ShareParams }>(`/v1/shares/:share_id/${answer}`, { schema: { params: shareIdParams, response: { 204: noContentSchema, ...problemResponses } } }, async (request, reply) => {
        await shares.answer(principalOf(request), request.params.share_id, answer);
        return reply.code(204).send();
      });
    }
  };
