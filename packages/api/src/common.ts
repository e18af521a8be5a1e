/** Shapes shared by every route: problem details, and helpers for the types derived from schemas. */
import type { FromSchema } from "json-schema-to-ts";

/**
 * RFC 7807 problem details, the one error shape of the API. `code` is Shardvault's stable machine-readable
 * word; `type` is `about:blank` or `resource_limit_exceeded`.
 */
export const problemSchema = {
  type: "object",
  required: ["type", "title", "status", "detail", "code"],
  additionalProperties: false,
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    code: { type: "string" },
  },
} as const;
export type Problem = FromSchema<typeof problemSchema>;

/** A 204 answer: no body. */
export const noContentSchema = { description: "No content", type: "null" } as const;

/** Problem answers every route may give, for the OpenAPI document. */
export const problemResponses = {
  "4xx": { description: "A problem with the request (RFC 7807)", content: { "application/problem+json": { schema: problemSchema } } },
  "5xx": { description: "A problem on the server or at a key provider (RFC 7807)", content: { "application/problem+json": { schema: problemSchema } } },
} as const;

/**
 * Drops the index signature that a schema without `additionalProperties: false` gives its type: request
 * schemas stay open (clients send fields Shardvault does not know, e.g. 1claw's `rotation_policy`), but the
 * types should name only the fields that mean something.
 */
export type Known<T> = { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };

export const uuidParams = (name: string) => ({ type: "object", required: [name], properties: { [name]: { type: "string" } } }) as const;

/**
 * A Fastify serializer compiler for routes whose response schemas are there to document the API: answers
 * are serialized with `JSON.stringify` as they are, never filtered or coerced by the schema (fast-json-
 * stringify would drop every property a schema does not list). The response-shape test checks real answers
 * against the schemas instead.
 */
export const documentOnlySerializer = () => (data: unknown) => JSON.stringify(data);
