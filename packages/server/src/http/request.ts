/** What routes read from a request and set on a reply, shared by every route file. */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Principal, SecretRead } from "../auth/principal.js";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /** Routes that answer without a bearer token. */
    public?: boolean;
    /** A route ending in a wildcard: the segments the OpenAPI document names it with (default `["path"]`). */
    wildcard?: readonly string[];
    /**
     * Value reads: the path and version the request names, loaded with the credentials in one query; undefined
     * when the URL does not name one validly (the handler then answers the error, after authentication).
     */
    secretRead?: (request: FastifyRequest) => SecretRead | undefined;
  }
}

/** The authenticated principal of a non-public route. */
export function principalOf(request: FastifyRequest): Principal {
  return request.principal!;
}

/** Marks answers that carry a secret value or key material as not to be cached anywhere. */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header("Cache-Control", "no-store");
}
