/**
 * The secret path as the client sent it, taken from the raw request URL so that it is percent-decoded
 * exactly once (by `decodeSecretPath`), whichever way the client encoded it.
 */
import type { FastifyRequest } from "fastify";
import { badRequest } from "../errors.js";

/** The raw URL path after `/v1/vaults/{id}/{route}/`. */
export function rawTail(request: FastifyRequest, route: string): string {
  const path = (request.raw.url ?? "").split("?", 1)[0]!;
  const marker = `/${route}/`;
  const start = path.indexOf(marker, "/v1/vaults/".length);
  if (start < 0) throw badRequest("invalid_path", "the secret path is missing");
  return path.slice(start + marker.length);
}

/** Splits `…/{version}` off the end of a raw tail. */
export function splitVersion(tail: string): { rawPath: string; version: number } {
  const cut = tail.lastIndexOf("/");
  const version = Number(tail.slice(cut + 1));
  if (cut <= 0 || !/^[1-9][0-9]{0,8}$/.test(tail.slice(cut + 1))) {
    throw badRequest("invalid_version", "the version must be a positive integer");
  }
  return { rawPath: tail.slice(0, cut), version };
}
