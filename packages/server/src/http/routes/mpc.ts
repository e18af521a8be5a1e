import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { documentOnlySerializer, mpcJobParams, mpcJobResponse, mpcJobStartedResponse, problemResponses, replaceProviderBody, vaultParams } from "@shardvault/api";
import type { JobRow } from "../../jobs/job-queries.js";
import { toJobStarted, type LifecycleRequest } from "../../mpc/lifecycle-service.js";
import type { HttpDeps } from "../deps.js";
import { principalOf } from "../request.js";

/** The MPC key lifecycle jobs: each call answers 202 with the job and where to follow it. */
export const mpcRoutes =
  (deps: Pick<HttpDeps, "lifecycle">): FastifyPluginAsync =>
  async (app) => {
    // The schemas come from @shardvault/api; response schemas document the API and do not filter answers.
    app.setSerializerCompiler(documentOnlySerializer);
    const started = { params: vaultParams, response: { 202: mpcJobStartedResponse, ...problemResponses } };
    const accepted = (reply: FastifyReply, job: JobRow) =>
      reply.code(202).header("Location", `/v1/vaults/${job.vault_id}/mpc/jobs/${job.id}`).send(toJobStarted(job));
    const start = (request: FastifyRequest<{ Params: { vault_id: string } }>, call: LifecycleRequest) =>
      deps.lifecycle.start(principalOf(request), request.params.vault_id, call);

    app.post<{ Params: { vault_id: string } }>("/v1/vaults/:vault_id/mpc/rotate", { schema: started }, async (request, reply) =>
      accepted(reply, await start(request, { kind: "rotate" })),
    );

    app.post<{ Params: { vault_id: string }; Body: { from: string; to: string } }>(
      "/v1/vaults/:vault_id/mpc/replace-provider",
      { schema: { ...started, body: replaceProviderBody } },
      async (request, reply) => accepted(reply, await start(request, { kind: "replace_provider", from: request.body.from, to: request.body.to })),
    );

    app.post<{ Params: { vault_id: string } }>("/v1/vaults/:vault_id/mpc/refresh", { schema: started }, async (request, reply) =>
      accepted(reply, await start(request, { kind: "refresh" })),
    );

    app.get<{ Params: { vault_id: string; job_id: string } }>(
      "/v1/vaults/:vault_id/mpc/jobs/:job_id",
      { schema: { params: mpcJobParams, response: { 200: mpcJobResponse, ...problemResponses } } },
      async (request) => deps.lifecycle.job(principalOf(request), request.params.vault_id, request.params.job_id),
    );
  };
