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
  secretResponse,
  secretVersionListResponse,
  secretWrittenResponse,
  writeSecretBody,
} from "@shardvault/api";
import { decodeSecretPath } from "../../secrets/secret-path.js";
import type { SecretRead as ReadAnswer } from "../../secrets/secret-service.js";
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

interface WriteBody {
  value: string;
  type?: string;
  metadata?: Record<string, unknown>;
  expires_at?: string;
  max_access_count?: number;
}

/** The `X-Client-Share` header (names are case-insensitive; Node lower-cases them). */
function clientShareOf(request: FastifyRequest): { clientShare?: string } {
  const header = request.headers["x-client-share"];
  const value = Array.isArray(header) ? header[0] : header;
  return value === undefined ? {} : { clientShare: value };
}

/** `?version=N`: a positive integer. */
function versionQuery(raw: string | undefined): { version?: number } {
  if (raw === undefined) return {};
  if (!/^[1-9][0-9]{0,8}$/.test(raw)) throw badRequest("invalid_version", "version must be a positive integer");
  return { version: Number(raw) };
}

/** The secret read as JSON. The plaintext buffer is wiped once it has become the response string. */
function readAnswer(secret: ReadAnswer) {
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
      // A lone surrogate would silently become U+FFFD: refuse it rather than store another value.
      if (LONE_SURROGATE.test(request.body.value)) throw badRequest("invalid_value", "the value is not well-formed Unicode (lone surrogate)");
      const value = Buffer.from(request.body.value, "utf8");
      try {
        const written = await secrets.write(principalOf(request), request.params.vault_id, pathFrom(request, "secrets"), {
          ...request.body,
          value,
        });
        return noStore(reply).code(201).send(written);
      } finally {
        wipe(value);
      }
    });

    app.get<{ Params: Params; Querystring: { version?: string } }>(
      "/v1/vaults/:vault_id/secrets/*",
      { config: { secretRead: latestOrVersion }, schema: { querystring: readSecretQuery, response: { 200: secretResponse, ...problemResponses } } },
      async (request, reply) => {
        const secret = await secrets.read(principalOf(request), request.params.vault_id, pathFrom(request, "secrets"), {
          ...versionQuery(request.query.version),
          ...clientShareOf(request),
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

    app.get<{ Params: Params }>("/v1/vaults/:vault_id/secret-version/*", { config: { ...VERSIONED, secretRead: atVersion }, schema: { response: { 200: secretResponse, ...problemResponses } } }, async (request, reply) => {
      const { path, version } = versionFrom(request, "secret-version");
      return noStore(reply).send(readAnswer(await secrets.read(principalOf(request), request.params.vault_id, path, { version, ...clientShareOf(request) })));
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
