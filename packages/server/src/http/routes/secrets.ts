import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { wipe } from "@shardvault/crypto";
import {
  documentOnlySerializer,
  listSecretsQuery,
  noContentSchema,
  problemResponses,
  readSecretQuery,
  rotateSecretBody,
  secretListResponse,
  secretRefreshResponse,
  sealedSecretResponse,
  sealTargetResponse,
  secretResponse,
  secretVersionListResponse,
  type SealedWrite,
  secretWrittenResponse,
  writeSecretBody,
} from "@shardvault/api";
import { decodeSecretPath } from "../../secrets/secret-path.js";
import { wipeAnswer, type SecretRead as ReadAnswer } from "../../secrets/secret-service.js";
import type { SecretRead } from "../../auth/principal.js";
import type { Charset } from "../../secrets/generate.js";
import type { HttpDeps } from "../deps.js";
import { noStore, principalOf } from "../request.js";
import { rawTail, splitVersion } from "../raw-path.js";
import { badRequest } from "../../errors.js";

type Params = { vault_id: string; "*": string };

/** Routes whose wildcard is a path and then a version (`splitVersion`). */
const VERSIONED = { wildcard: ["path", "version"] } as const;

// String.prototype.isWellFormed is ES2024; this is the same test.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** `value`, or `sealed`: the schema admits exactly one of the two. */
interface WriteBody {
  value?: string;
  sealed?: SealedWrite;
  type?: string;
  metadata?: Record<string, unknown>;
  expires_at?: string;
  max_access_count?: number;
}

const headerOf = (request: FastifyRequest, name: string): string | undefined => {
  const header = request.headers[name];
  return Array.isArray(header) ? header[0] : header;
};

/** The `X-Client-Share` header (names are case-insensitive; Node lower-cases them). */
function clientShareOf(request: FastifyRequest): { clientShare?: string } {
  const value = headerOf(request, "x-client-share");
  return value === undefined ? {} : { clientShare: value };
}

/**
 * How a read's value is to be rebuilt: by the server with the `X-Client-Share` header (the default), or by the
 * client (`X-Reconstruct: client`), which then must not send its share at all.
 */
function reconstructionOf(request: FastifyRequest): { clientShare?: string; reconstruct?: "client" } {
  const reconstruct = headerOf(request, "x-reconstruct")?.trim().toLowerCase();
  if (reconstruct === undefined || reconstruct === "server") return clientShareOf(request);
  if (reconstruct !== "client") throw badRequest("invalid_reconstruct", "X-Reconstruct must be client or server");
  if (headerOf(request, "x-client-share") !== undefined) {
    throw badRequest("conflicting_headers", "X-Reconstruct: client rebuilds the value on the client: do not send X-Client-Share with it");
  }
  return { reconstruct: "client" };
}

/** `?version=N`: a positive integer. */
function versionQuery(raw: string | undefined): { version?: number } {
  if (raw === undefined) return {};
  if (!/^[1-9][0-9]{0,8}$/.test(raw)) throw badRequest("invalid_version", "version must be a positive integer");
  return { version: Number(raw) };
}

/**
 * The secret read as JSON. The plaintext buffer is wiped once it has become the response string; a client-side
 * read's server shares, once they have become base64.
 */
function readAnswer(secret: ReadAnswer) {
  if ("sealed" in secret) {
    const { sealed, ...meta } = secret;
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64");
    const answer = {
      ...meta,
      sealed: {
        format: sealed.format,
        value: b64(sealed.value),
        commitment: b64(sealed.commitment),
        context: b64(sealed.context),
        server_shares: sealed.serverShares.map(({ index, share }) => ({ index, share: b64(share) })),
      },
    };
    wipeAnswer(secret);
    return answer;
  }
  const { value, ...meta } = secret;
  const text = value.toString("utf8");
  wipe(value);
  return { ...meta, value: text };
}

export const secretRoutes =
  (deps: Pick<HttpDeps, "secrets" | "lifecycle" | "limits">): FastifyPluginAsync =>
  async (app) => {
    const { secrets, limits } = deps;
    // The schemas come from @shardvault/api; response schemas document the API and do not filter answers.
    app.setSerializerCompiler(documentOnlySerializer);
    const pathFrom = (request: FastifyRequest, route: string) => decodeSecretPath(rawTail(request, route), limits.maxPathLength);
    const versionFrom = (request: FastifyRequest, route: string) => {
      const { rawPath, version } = splitVersion(rawTail(request, route));
      return { path: decodeSecretPath(rawPath, limits.maxPathLength), version };
    };
    // What a value read names, for authentication to load with the credentials; a URL that names nothing valid
    // loads nothing here, and the handler answers its error once the caller is authenticated.
    const named = (name: (request: FastifyRequest) => SecretRead) => (request: FastifyRequest) => {
      try {
        return name(request);
      } catch {
        return undefined;
      }
    };
    const latestOrVersion = named((request) => ({ path: pathFrom(request, "secrets"), ...versionQuery((request.query as { version?: string }).version) }));
    const atVersion = named((request) => versionFrom(request, "secret-version"));

    app.put<{ Params: Params; Body: WriteBody }>("/v1/vaults/:vault_id/secrets/*", { schema: { body: writeSecretBody, response: { 201: secretWrittenResponse, ...problemResponses } } }, async (request, reply) => {
      const { value: text, sealed, ...fields } = request.body;
      const principal = principalOf(request);
      const path = pathFrom(request, "secrets");
      if (sealed) return noStore(reply).code(201).send(await secrets.writeSealed(principal, request.params.vault_id, path, { ...fields, sealed }));
      // A lone surrogate would silently become U+FFFD: refuse it rather than store another value.
      if (LONE_SURROGATE.test(text!)) throw badRequest("invalid_value", "the value is not well-formed Unicode (lone surrogate)");
      const value = Buffer.from(text!, "utf8");
      try {
        return noStore(reply).code(201).send(await secrets.write(principal, request.params.vault_id, path, { ...fields, value }));
      } finally {
        wipe(value);
      }
    });

    // Client-side reconstruction's write: the version number a client-sealed write may claim, and the layout.
    app.get<{ Params: Params }>("/v1/vaults/:vault_id/secret-seal/*", { schema: { response: { 200: sealTargetResponse, ...problemResponses } } }, async (request, reply) =>
      noStore(reply).send(await secrets.sealTarget(principalOf(request), request.params.vault_id, pathFrom(request, "secret-seal"))),
    );

    app.get<{ Params: Params; Querystring: { version?: string } }>(
      "/v1/vaults/:vault_id/secrets/*",
      { config: { secretRead: latestOrVersion }, schema: { querystring: readSecretQuery, response: { 200: { oneOf: [secretResponse, sealedSecretResponse] }, ...problemResponses } } },
      async (request, reply) => {
        const secret = await secrets.read(principalOf(request), request.params.vault_id, pathFrom(request, "secrets"), {
          ...versionQuery(request.query.version),
          ...reconstructionOf(request),
        });
        return noStore(reply).send(readAnswer(secret));
      },
    );

    // A client-custody secret's DEK split afresh (e.g. onto a replacement slot): the new client share, shown once.
    app.post<{ Params: Params; Querystring: { version?: string } }>(
      "/v1/vaults/:vault_id/secret-refresh/*",
      { schema: { querystring: readSecretQuery, response: { 200: secretRefreshResponse, ...problemResponses } } },
      async (request, reply) => {
        const refreshed = await deps.lifecycle.refreshSecret(principalOf(request), request.params.vault_id, pathFrom(request, "secret-refresh"), {
          ...versionQuery(request.query.version),
          ...clientShareOf(request),
        });
        return noStore(reply).send(refreshed);
      },
    );

    app.get<{ Params: { vault_id: string }; Querystring: { prefix?: string; limit?: string; cursor?: string } }>(
      "/v1/vaults/:vault_id/secrets",
      { schema: { querystring: listSecretsQuery, response: { 200: secretListResponse, ...problemResponses } } },
      async (request) => {
        const { prefix, limit, cursor } = request.query;
        return secrets.list(principalOf(request), request.params.vault_id, prefix ?? "", {
          ...(limit !== undefined ? { limit: Number(limit) } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
        });
      },
    );

    app.delete<{ Params: Params }>("/v1/vaults/:vault_id/secrets/*", { schema: { response: { 204: noContentSchema, ...problemResponses } } }, async (request, reply) => {
      await secrets.remove(principalOf(request), request.params.vault_id, pathFrom(request, "secrets"));
      return reply.code(204).send();
    });

    app.get<{ Params: Params }>("/v1/vaults/:vault_id/secret-versions/*", { schema: { response: { 200: secretVersionListResponse, ...problemResponses } } }, async (request) => ({
      versions: await secrets.versions(principalOf(request), request.params.vault_id, pathFrom(request, "secret-versions")),
    }));

    app.get<{ Params: Params }>("/v1/vaults/:vault_id/secret-version/*", { config: { ...VERSIONED, secretRead: atVersion }, schema: { response: { 200: { oneOf: [secretResponse, sealedSecretResponse] }, ...problemResponses } } }, async (request, reply) => {
      const { path, version } = versionFrom(request, "secret-version");
      return noStore(reply).send(readAnswer(await secrets.read(principalOf(request), request.params.vault_id, path, { version, ...reconstructionOf(request) })));
    });

    app.post<{ Params: Params }>("/v1/vaults/:vault_id/secret-version-disable/*", { config: VERSIONED, schema: { response: { 204: noContentSchema, ...problemResponses } } }, async (request, reply) => {
      const { path, version } = versionFrom(request, "secret-version-disable");
      await secrets.disableVersion(principalOf(request), request.params.vault_id, path, version);
      return reply.code(204).send();
    });

    app.post<{ Params: Params; Body: { length?: number; charset?: Charset; type?: string } }>(
      "/v1/vaults/:vault_id/secret-rotate/*",
      {
        schema: { body: rotateSecretBody, response: { 201: secretWrittenResponse, ...problemResponses } },
        // Every field is optional, so no body at all means the defaults.
        preValidation: async (request) => {
          request.body ??= {};
        },
      },
      async (request, reply) => {
        const written = await secrets.rotateGenerate(principalOf(request), request.params.vault_id, pathFrom(request, "secret-rotate"), request.body);
        return noStore(reply).code(201).send(written);
      },
    );
  };
