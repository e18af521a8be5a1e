/** RFC 7807 problem details, the one error shape of the API, also for errors the framework raises itself. */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../errors.js";

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  410: "Gone",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export function sendProblem(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.extra.retryAfterSeconds !== undefined) reply.header("Retry-After", String(error.extra.retryAfterSeconds));
  return reply
    .code(error.status)
    .type("application/problem+json")
    .send({
      type: error.extra.type ?? "about:blank",
      title: TITLES[error.status] ?? "Error",
      status: error.status,
      detail: error.detail,
      code: error.code,
    });
}

/** Translates the framework's own errors (routing, body parsing, validation) into AppErrors. */
function fromFramework(error: FastifyError): AppError | undefined {
  if (error.validation) {
    const detail = error.message.replace(/^body\/?/, "body ").replace(/^querystring\/?/, "query ");
    return new AppError(400, "validation_error", detail.replace(/\s+/g, " ").trim());
  }
  switch (error.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new AppError(415, "unsupported_media_type", "send JSON with Content-Type: application/json");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new AppError(413, "payload_too_large", "the request body is too large");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new AppError(400, "invalid_json", "the request body is not valid JSON");
  }
  if (error instanceof SyntaxError || error.message?.includes("JSON")) {
    return new AppError(400, "invalid_json", "the request body is not valid JSON");
  }
  // PostgreSQL's class 22 ("data exception"): input it cannot store, such as NUL in text or a year 0 date.
  if (typeof error.code === "string" && /^22[0-9A-Z]{3}$/.test(error.code)) {
    return new AppError(400, "invalid_input", "the request holds a value the database cannot store (e.g. a NUL character or an out-of-range date)");
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new AppError(status, "bad_request", error.message);
  return undefined;
}

export function errorHandler() {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = error instanceof AppError ? error : fromFramework(error);
    if (known) return sendProblem(reply, known);
    // Only the error's kind is logged: messages of lower layers could quote request data.
    request.log.error(`unhandled ${error.name}${error.code ? ` (${error.code})` : ""} on ${request.method} ${request.routeOptions.url ?? "?"}`);
    return sendProblem(reply, new AppError(500, "internal_error", "an internal error occurred"));
  };
}

export function notFoundHandler(_request: FastifyRequest, reply: FastifyReply) {
  return sendProblem(reply, new AppError(404, "not_found", "no such route"));
}
