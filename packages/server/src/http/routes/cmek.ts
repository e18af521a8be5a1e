import type { FastifyPluginAsync } from "fastify";
import {
  cmekJobParams,
  cmekRotateBody,
  cmekRotateHeaders,
  cmekRotationJobResponse,
  documentOnlySerializer,
  enableCmekBody,
  problemResponses,
  vaultParams,
  vaultSchema,
} from "@shardvault/api";
import type { HttpDeps } from "../deps.js";
import { noStore, principalOf } from "../request.js";

const header = (request: { headers: Record<string, string | string[] | undefined> }, name: string) => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export const cmekRoutes =
  (deps: Pick<HttpDeps, "cmek">): FastifyPluginAsync =>
  async (app) => {
    // The schemas come from @shardvault/api; response schemas document the API and do not filter answers.
    app.setSerializerCompiler(documentOnlySerializer);

    app.post<{ Params: { vault_id: string }; Body: { fingerprint: string } }>(
      "/v1/vaults/:vault_id/cmek",
      { schema: { params: vaultParams, body: enableCmekBody, response: { 200: vaultSchema, ...problemResponses } } },
      async (request) => deps.cmek.enable(principalOf(request), request.params.vault_id, request.body),
    );

    app.delete<{ Params: { vault_id: string } }>("/v1/vaults/:vault_id/cmek", { schema: { params: vaultParams, response: { 200: vaultSchema, ...problemResponses } } }, async (request) =>
      deps.cmek.disable(principalOf(request), request.params.vault_id),
    );

    // The two keys travel in headers, never in the body or the URL, and are never logged.
    app.post<{ Params: { vault_id: string }; Body: { new_fingerprint: string } }>(
      "/v1/vaults/:vault_id/cmek-rotate",
      {
        schema: { params: vaultParams, headers: cmekRotateHeaders, body: cmekRotateBody, response: { 202: cmekRotationJobResponse, ...problemResponses } },
      },
      async (request, reply) => {
        const job = await deps.cmek.startRotation(principalOf(request), request.params.vault_id, request.body, {
          oldKey: header(request, "x-cmek-old-key"),
          newKey: header(request, "x-cmek-new-key"),
        });
        return noStore(reply).code(202).header("Location", `/v1/vaults/${job.vault_id}/cmek-rotate/${job.id}`).send(job);
      },
    );

    app.get<{ Params: { vault_id: string; job_id: string } }>(
      "/v1/vaults/:vault_id/cmek-rotate/:job_id",
      { schema: { params: cmekJobParams, response: { 200: cmekRotationJobResponse, ...problemResponses } } },
      async (request) => deps.cmek.job(principalOf(request), request.params.vault_id, request.params.job_id),
    );
  };
