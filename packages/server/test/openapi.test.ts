/**
 * `GET /v1/openapi.json` (public): an OpenAPI 3.1 document that covers every route the server registers.
 *
 * The expected routes are written out here from packages/server/src/http/routes/*.ts (a route added there
 * without being added here fails the comparison, which is the point: the list is reviewed by hand). The
 * document's paths and methods must be exactly these; every path template parameter is declared; each route
 * that takes a JSON body documents it as a requestBody schema, and those without a body document none; every
 * operation documents a success answer; the document is served to anyone, as JSON, and names the server's
 * version.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak } from "./support/harness.js";
import { deploy, type Deployment } from "./support/postgres.js";

/** Method, path (OpenAPI template), and whether the route takes a JSON body. */
const ROUTES: ReadonlyArray<readonly [string, string, boolean]> = [
  // health.ts
  ["GET", "/v1/health", false],
  ["GET", "/v1/health/hsm", false],
  // auth.ts
  ["POST", "/v1/auth/api-key-token", true],
  ["POST", "/v1/auth/agent-token", true],
  ["GET", "/.well-known/jwks.json", false],
  ["POST", "/v1/auth/api-keys", true],
  ["GET", "/v1/auth/api-keys", false],
  ["DELETE", "/v1/auth/api-keys/{key_id}", false],
  ["POST", "/v1/auth/token", true],
  // members.ts
  ["GET", "/v1/org/members", false],
  ["POST", "/v1/org/invite", true],
  ["PATCH", "/v1/org/members/{user_id}", true],
  ["DELETE", "/v1/org/members/{user_id}", false],
  ["POST", "/v1/auth/accept-invite", true],
  ["GET", "/v1/auth/me", false],
  ["PATCH", "/v1/auth/me", true],
  ["POST", "/v1/auth/change-password", true],
  // agents.ts
  ["POST", "/v1/agents", true],
  ["GET", "/v1/agents", false],
  ["GET", "/v1/agents/me", false],
  ["GET", "/v1/agents/{agent_id}", false],
  ["PATCH", "/v1/agents/{agent_id}", true],
  ["DELETE", "/v1/agents/{agent_id}", false],
  ["POST", "/v1/agents/{agent_id}/rotate-key", false],
  // audit.ts
  ["GET", "/v1/audit/events", false],
  ["GET", "/v1/audit/verify", false],
  ["GET", "/v1/audit/export", false],
  // vaults.ts
  ["POST", "/v1/vaults", true],
  ["GET", "/v1/vaults", false],
  ["GET", "/v1/vaults/{vault_id}", false],
  ["DELETE", "/v1/vaults/{vault_id}", false],
  ["POST", "/v1/vaults/{vault_id}/mpc", true],
  // policies.ts
  ["POST", "/v1/vaults/{vault_id}/policies", true],
  ["GET", "/v1/vaults/{vault_id}/policies", false],
  ["PUT", "/v1/vaults/{vault_id}/policies/{policy_id}", true],
  ["DELETE", "/v1/vaults/{vault_id}/policies/{policy_id}", false],
  // secrets.ts
  ["PUT", "/v1/vaults/{vault_id}/secrets/{path}", true],
  ["GET", "/v1/vaults/{vault_id}/secrets/{path}", false],
  ["GET", "/v1/vaults/{vault_id}/secrets", false],
  ["DELETE", "/v1/vaults/{vault_id}/secrets/{path}", false],
  ["GET", "/v1/vaults/{vault_id}/secret-versions/{path}", false],
  ["GET", "/v1/vaults/{vault_id}/secret-version/{path}/{version}", false],
  ["POST", "/v1/vaults/{vault_id}/secret-version-disable/{path}/{version}", false],
  ["POST", "/v1/vaults/{vault_id}/secret-rotate/{path}", true],
  ["POST", "/v1/vaults/{vault_id}/secret-refresh/{path}", false],
  ["GET", "/v1/vaults/{vault_id}/secret-seal/{path}", false],
  // cmek.ts
  ["POST", "/v1/vaults/{vault_id}/cmek", true],
  ["DELETE", "/v1/vaults/{vault_id}/cmek", false],
  ["POST", "/v1/vaults/{vault_id}/cmek-rotate", true],
  ["GET", "/v1/vaults/{vault_id}/cmek-rotate/{job_id}", false],
  // mpc.ts
  ["POST", "/v1/vaults/{vault_id}/mpc/rotate", false],
  ["POST", "/v1/vaults/{vault_id}/mpc/replace-provider", true],
  ["POST", "/v1/vaults/{vault_id}/mpc/refresh", false],
  ["GET", "/v1/vaults/{vault_id}/mpc/jobs/{job_id}", false],
  // shares.ts
  ["POST", "/v1/secrets/{secret_id}/share", true],
  ["GET", "/v1/share/{share_id}", false],
  ["DELETE", "/v1/share/{share_id}", false],
  ["GET", "/v1/shares/outbound", false],
  ["GET", "/v1/shares/inbound", false],
  ["POST", "/v1/shares/{share_id}/accept", false],
  ["POST", "/v1/shares/{share_id}/decline", false],
];

/** Fields each documented body must name (a spot check that the schema is the validating one). */
const BODY_FIELDS: Record<string, string[]> = {
  "POST /v1/auth/api-key-token": ["api_key"],
  "POST /v1/auth/agent-token": ["api_key", "agent_id"],
  "POST /v1/auth/api-keys": ["name", "scopes", "expires_at"],
  "POST /v1/agents": ["name", "description", "scopes", "vault_ids", "expires_at", "token_ttl_seconds"],
  "PATCH /v1/agents/{agent_id}": ["name", "vault_ids", "is_active", "scopes"],
  "POST /v1/vaults": ["name", "description"],
  "PUT /v1/vaults/{vault_id}/secrets/{path}": ["value", "sealed", "type", "metadata", "expires_at", "max_access_count"],
  "POST /v1/vaults/{vault_id}/secret-rotate/{path}": ["length", "charset", "type"],
  "POST /v1/vaults/{vault_id}/cmek": ["fingerprint"],
  "POST /v1/vaults/{vault_id}/cmek-rotate": ["new_fingerprint"],
  "POST /v1/auth/token": ["email", "password"],
  "POST /v1/org/invite": ["email", "role"],
  "PATCH /v1/org/members/{user_id}": ["role"],
  "POST /v1/auth/accept-invite": ["invite_token", "password", "display_name"],
  "PATCH /v1/auth/me": ["display_name", "email"],
  "POST /v1/auth/change-password": ["current_password", "new_password"],
  "POST /v1/vaults/{vault_id}/policies": ["secret_path_pattern", "principal_type", "principal_id", "permissions", "effect", "priority", "expires_at", "conditions"],
  "PUT /v1/vaults/{vault_id}/policies/{policy_id}": ["permissions", "effect", "priority", "expires_at", "conditions"],
  "POST /v1/vaults/{vault_id}/mpc/replace-provider": ["from", "to"],
  "POST /v1/secrets/{secret_id}/share": ["recipient_type", "recipient_id", "email", "expires_at", "max_access_count", "passphrase", "ip_allowlist"],
};

const METHODS = ["get", "put", "post", "delete", "patch", "options", "head", "trace"];

describe("openapi", () => {
  let deployment: Deployment;
  let doc: any;

  before(async () => {
    deployment = await deploy("pglite");
    // Public: no token.
    const res = await api(deployment.server.url).get("/v1/openapi.json");
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    doc = res.body;
  });

  after(async () => {
    await deployment?.dispose();
  });

  test("an OpenAPI 3.1 document naming the server's version and the bearer scheme", async () => {
    assert.match(String(doc.openapi), /^3\.1\.\d+$/);
    assert.equal(typeof doc.info?.title, "string");
    const health = await api(deployment.server.url).get("/v1/health");
    assert.equal(doc.info.version, health.body.version);
    assert.equal(typeof doc.paths, "object");
    const schemes = doc.components?.securitySchemes ?? {};
    assert.ok(Object.values(schemes).some((s: any) => s.type === "http" && /^bearer$/i.test(s.scheme)), JSON.stringify(schemes));
  });

  test("the document's paths and methods are exactly the routes the server registers", () => {
    const documented = Object.entries<any>(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const expected = ROUTES.map(([m, p]) => `${m} ${p}`).sort();
    const missing = expected.filter((r) => !documented.includes(r));
    const extra = documented.filter((r) => !expected.includes(r));
    assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
  });

  test("every path template parameter is declared; every operation documents a success answer", () => {
    for (const [method, path] of ROUTES) {
      const op = doc.paths[path]?.[method.toLowerCase()];
      assert.ok(op, `${method} ${path}`);
      const declared = [...(doc.paths[path].parameters ?? []), ...(op.parameters ?? [])].filter((p: any) => p.in === "path").map((p: any) => p.name);
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
        assert.ok(declared.includes(name), `${method} ${path}: path parameter {${name}} is not declared`);
      }
      const codes = Object.keys(op.responses ?? {});
      assert.ok(codes.some((c) => /^2(\d\d|XX)$/i.test(c)), `${method} ${path}: no 2xx answer documented (${codes.join(", ")})`);
    }
  });

  test("each route with a JSON body documents a requestBody schema; routes without one document none", () => {
    for (const [method, path, hasBody] of ROUTES) {
      const op = doc.paths[path][method.toLowerCase()];
      const label = `${method} ${path}`;
      if (!hasBody) {
        assert.equal(op.requestBody, undefined, `${label} documents a body it does not take`);
        continue;
      }
      const schema = op.requestBody?.content?.["application/json"]?.schema;
      assert.ok(schema && typeof schema === "object", `${label}: no application/json requestBody schema`);
      assert.equal(schema.type, "object", label);
      const fields = BODY_FIELDS[label];
      if (fields) for (const field of fields) assert.ok(field in (schema.properties ?? {}), `${label}: body field ${field} is not documented`);
    }
    // Required fields as validated.
    assert.deepEqual(doc.paths["/v1/auth/api-key-token"].post.requestBody.content["application/json"].schema.required, ["api_key"]);
    assert.deepEqual(doc.paths["/v1/agents"].post.requestBody.content["application/json"].schema.required, ["name"]);
    assert.deepEqual(doc.paths["/v1/vaults/{vault_id}/secrets/{path}"].put.requestBody.content["application/json"].schema.oneOf, [{ required: ["value"] }, { required: ["sealed"] }]);
  });

  test("the audit route documents its filters as query parameters", () => {
    const op = doc.paths["/v1/audit/events"].get;
    const names = (op.parameters ?? []).filter((p: any) => p.in === "query").map((p: any) => p.name).sort();
    assert.deepEqual(names, ["action", "actor_id", "from", "limit", "offset", "resource_id", "to"]);
  });

  test("the server's output holds no key", async () => {
    await deployment.server.stop();
    assertNoLeak(deployment.server.output(), [deployment.server.adminKey]);
  });
});
