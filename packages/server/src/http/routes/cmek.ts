import type { FastifyPluginAsync } from "fastify";
import type { HttpDeps } from "../app.js";
import { noStore, principalOf } from "../app.js";

const vaultParams = { type: "object", required: ["vault_id"], properties: { vault_id: { type: "string" } } } as const;
const fingerprint = { type: "string", pattern: "^[0-9a-f]{64}$" } as const;
const header = (request: { headers: Record<string, string | string[] | undefined> }, name: string) => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export const cmekRoutes =
  (deps: Pick<HttpDeps, "cmek">): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Params: { vault_id: string }; Body: { fingerprint: string } }>(
      "/v1/vaults/:vault_id/cmek",
      { schema: { params: vaultParams, body: { type: "object", required: ["fingerprint"], properties: { fingerprint } } } },
      async (request) => deps.cmek.enable(principalOf(request), request.params.vault_id, request.body),
    );

    app.delete<{ Params: { vault_id: string } }>("/v1/vaults/:vault_id/cmek", { schema: { params: vaultParams } }, async (request) =>
      deps.cmek.disable(principalOf(request), request.params.vault_id),
    );

    // The two keys travel in headers, never in the body or the URL, and are never logged.
    app.post<{ Params: { vault_id: string }; Body: { new_fingerprint: string } }>(
      "/v1/vaults/:vault_id/cmek-rotate",
      {
        schema: {
          params: vaultParams,
          headers: {
            type: "object",
            required: ["x-cmek-old-key", "x-cmek-new-key"],
            properties: { "x-cmek-old-key": { type: "string" }, "x-cmek-new-key": { type: "string" } },
          },
          body: { type: "object", required: ["new_fingerprint"], properties: { new_fingerprint: fingerprint } },
        },
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
      { schema: { params: { type: "object", required: ["vault_id", "job_id"], properties: { vault_id: { type: "string" }, job_id: { type: "string" } } } } },
      async (request) => deps.cmek.job(principalOf(request), request.params.vault_id, request.params.job_id),
    );
  };
