/**
 * Request ids and request logs. Every request gets an id — the caller's `X-Request-Id` when it is a short
 * token of safe characters, else a fresh UUID — answered in `X-Request-Id` and carried by every log line of
 * the request (`request_id`, through Fastify's child logger). One JSON line per finished request names the
 * method, the route pattern, the status and the time taken; never headers or bodies, where credentials,
 * values and client shares travel.
 */
import { randomUUID } from "node:crypto";
import { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from "fastify";
import type { IncomingMessage } from "node:http";

export const REQUEST_ID_HEADER = "x-request-id";
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The Fastify options that name each request and put its id on every log line. */
export const requestIdOptions = {
  genReqId: (request: IncomingMessage) => {
    const given = request.headers[REQUEST_ID_HEADER];
    return typeof given === "string" && SANE_REQUEST_ID.test(given) ? given : randomUUID();
  },
  // Fastify's own two lines per request (incoming, completed) are replaced by the one line below.
  logController: new LogController({ requestIdLogLabel: "request_id", disableRequestLogging: true }),
} satisfies Partial<FastifyServerOptions>;

/** The one line of a finished request. */
export function logRequest(request: FastifyRequest, reply: FastifyReply): void {
  request.log.info(
    {
      method: request.method,
      route: request.routeOptions.url ?? null,
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime * 10) / 10,
      ...(request.principal ? { principal: `${request.principal.type}:${request.principal.id}` } : {}),
    },
    "request",
  );
}

/** Answers every request's id; the line of a finished request is the caller's to write (app.ts, with metrics). */
export function registerRequestId(app: FastifyInstance): void {
  app.addHook("onRequest", async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
}
