/**
 * The SDK cannot drift from the server (the CI check). Against a running server:
 *
 * 1. every operation of its OpenAPI document (`/v1/openapi.json`) is reached by some SDK method, and every
 *    request the SDK makes is an operation of the document;
 * 2. every answer the server gave in that tour conforms to the response schema the document publishes for
 *    its status, and those schemas are the ones of `@shardvault/api`, from which the SDK takes its types;
 * 3. every public SDK method was called in the tour, so a new method cannot skip the check.
 */
import assert from "node:assert/strict";
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import AjvModule from "ajv";
import formatsModule from "ajv-formats";
import * as api from "@shardvault/api";
import { openSealedVersion, sealForServer } from "@shardvault/crypto/client";
import { createClient, ShardvaultClient, type FetchLike } from "@shardvault/sdk";
import { startServer, type ServerHandle } from "./support.js";

const fingerprintOf = (key: Buffer) => createHash("sha256").update(key).digest("hex");
/** The CMEK value format: standard base64 of 0x01 | IV (12) | ciphertext | tag (16), AES-256-GCM. */
function cmekEncrypt(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([Buffer.from([1]), iv, ct, cipher.getAuthTag()]).toString("base64");
}

/**
 * Operations the SDK may leave out: the document itself, the JWKS and health (the SDK covers them anyway),
 * and anything outside the API's `/v1/` (pages a server may also document, such as a dashboard).
 */
const EXEMPT = new Set(["GET /v1/openapi.json", "GET /.well-known/jwks.json", "GET /v1/health", "GET /v1/health/hsm"]);
const isApi = (template: string) => template.startsWith("/v1/");
const RESOURCES = ["vault", "secrets", "sharing", "agents", "access", "org", "apiKeys", "audit", "auth", "health"] as const;

interface Operation {
  key: string;
  method: string;
  template: string;
  pattern: RegExp;
  params: number;
  responses: Record<string, any>;
}

interface Exchange {
  method: string;
  path: string;
  status: number;
  contentType: string;
  body: unknown;
}

function operationsOf(doc: any): Operation[] {
  const ops: Operation[] = [];
  for (const [template, methods] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(methods)) {
      const pattern = new RegExp(
        "^" + template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{path\}/g, ".+").replace(/\{[^}]+\}/g, "[^/]+") + "$",
      );
      ops.push({ key: `${method.toUpperCase()} ${template}`, method: method.toUpperCase(), template, pattern, params: (template.match(/\{/g) ?? []).length, responses: op.responses ?? {} });
    }
  }
  return ops;
}

/** The most specific operation a request matches (`/v1/agents/me` before `/v1/agents/{agent_id}`). */
function match(ops: Operation[], method: string, path: string): Operation | undefined {
  return ops.filter((op) => op.method === method && op.pattern.test(path)).sort((a, b) => a.params - b.params)[0];
}

describe("the SDK against the server's OpenAPI document", () => {
  let server: ServerHandle;
  let doc: any;
  const exchanges: Exchange[] = [];
  const called = new Set<string>();

  /** Records every request and answer, and every SDK method called (through a proxy on each resource). */
  function tracedClient(options: ConstructorParameters<typeof ShardvaultClient>[0]): ShardvaultClient {
    const fetch: FetchLike = async (url, init) => {
      const res = await globalThis.fetch(url, init);
      const text = await res.text();
      const contentType = res.headers.get("content-type") ?? "";
      // NDJSON (the audit export): one value a line, each checked against the document's schema.
      const body = contentType.startsWith(api.AUDIT_EXPORT_MEDIA_TYPE) ? text.split("\n").filter(Boolean).map((line) => JSON.parse(line)) : text ? JSON.parse(text) : undefined;
      exchanges.push({ method: init.method, path: new URL(url).pathname, status: res.status, contentType, body });
      return { status: res.status, headers: res.headers, text: async () => text };
    };
    const client = createClient({ ...options, fetch });
    return new Proxy(client, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (!(RESOURCES as readonly (string | symbol)[]).includes(prop)) return value;
        return new Proxy(value, {
          get(resource, name, r) {
            const member = Reflect.get(resource, name, r);
            if (typeof member !== "function") return member;
            return (...args: unknown[]) => {
              called.add(`${String(prop)}.${String(name)}`);
              return member.apply(resource, args);
            };
          },
        });
      },
    });
  }

  before(async () => {
    server = await startServer({ database: "pglite" });
    doc = await (await fetch(`${server.url}/v1/openapi.json`)).json();

    // The tour: every SDK method, the way an application uses them.
    const user = tracedClient({ apiKey: server.adminKey, baseUrl: server.url });
    const ok = <T>(res: { data: T | null; error: unknown }, what: string): T => {
      assert.equal(res.error, null, `${what}: ${JSON.stringify(res.error)}`);
      return res.data as T;
    };
    ok(await user.health.check(), "health");
    ok(await user.health.hsm(), "hsm");
    ok(await user.auth.jwks(), "jwks");
    ok(await user.auth.apiKeyToken(server.adminKey), "api-key-token");

    const key = ok(await user.apiKeys.create({ name: "ci", scopes: ["vaults:read"] }), "api key");
    ok(await user.apiKeys.list(), "api keys");
    ok(await user.apiKeys.revoke(key.key.id), "revoke");
    const key2 = ok(await user.apiKeys.create({ name: "ci2" }), "api key 2");
    ok(await user.apiKeys.delete(key2.key.id), "delete key");

    const vault = ok(await user.vault.create({ name: "tour", description: "every method" }), "vault");
    ok(await user.vault.list(), "vaults");
    ok(await user.vault.get(vault.id), "vault get");
    ok(await user.secrets.put(vault.id, "db/password", { type: "password", value: "p1", metadata: { owner: { team: "core" } }, max_access_count: 100 }), "put");
    ok(await user.secrets.set(vault.id, "db/password", "p2", { type: "password", expires_at: new Date(Date.now() + 86_400_000).toISOString() }), "set");
    ok(await user.secrets.rotate(vault.id, "db/password", "p3"), "rotate");
    const generated = ok(await user.secrets.rotateGenerate(vault.id, "db/password", { length: 24, charset: "alphanumeric" }), "rotate-generate");
    assert.equal(generated.version, 4);
    ok(await user.secrets.get(vault.id, "db/password", { version: 2 }), "get version 2");
    ok(await user.secrets.getVersion(vault.id, "db/password", 3), "get-version");
    ok(await user.secrets.disableVersion(vault.id, "db/password", 1), "disable");
    ok(await user.secrets.listVersions(vault.id, "db/password"), "versions");
    ok(await user.secrets.list(vault.id), "list");
    ok(await user.secrets.list(vault.id, "db/"), "list prefix");
    ok(await user.secrets.delete(vault.id, "db/password"), "delete");
    assert.equal((await user.secrets.get(vault.id, "db/password")).meta.status, 410, "a deleted secret is gone");

    // MPC: enabling on a vault with secrets answers their new client shares; client-custody reads need one.
    const plain = ok(await user.vault.create({ name: "to-mpc" }), "vault 2");
    ok(await user.secrets.put(plain.id, "k", { value: "before" }), "put before mpc");
    const enabled = ok(await user.vault.enableMpc(plain.id, { custody_mode: "2of3_client_custody", providers: ["gcp", "aws"] }), "enable");
    assert.equal(enabled.client_shares?.length, 1);
    const written = ok(await user.secrets.put(plain.id, "k", { value: "after" }), "put after mpc");
    ok(await user.secrets.get(plain.id, "k", { clientShare: written.client_share! }), "client-custody read");
    assert.equal((await user.secrets.get(plain.id, "k")).error?.code, "client_share_required");
    ok(await user.secrets.getVersion(plain.id, "k", 1, { headers: { "x-client-share": enabled.client_shares![0]!.client_share } }), "re-protected read");
    // reconstruct: "client": the SDK seals and opens itself (the primitives it uses are toured further down).
    const sealedHere = ok(await user.secrets.set(plain.id, "sealed", "sealed here", { reconstruct: "client" }), "client-sealed write");
    ok(await user.secrets.get(plain.id, "sealed", { clientShare: sealedHere.client_share!, reconstruct: "client" }), "client-side read");
    ok(await user.secrets.getVersion(plain.id, "k", 2, { clientShare: written.client_share!, reconstruct: "client" }), "client-side version read");

    const created = ok(await user.agents.create({ name: "bot", vault_ids: [plain.id], token_ttl_seconds: 600 }), "agent");
    ok(await user.agents.list(), "agents");
    ok(await user.agents.get(created.agent.id), "agent get");
    ok(await user.agents.update(created.agent.id, { description: "updated", expires_at: null }), "agent update");
    const rotated = ok(await user.agents.rotateKey(created.agent.id), "rotate key");
    ok(await user.auth.agentToken(rotated.api_key, created.agent.id), "agent-token");
    const agent = tracedClient({ apiKey: rotated.api_key, baseUrl: server.url });
    ok(await agent.agents.me(), "me");
    ok(await agent.agents.getSelf(), "getSelf");
    // Agents read through policies.
    const policy = ok(await user.access.grantAgent(plain.id, created.agent.id, ["read"], { secretPathPattern: "**" }), "grant agent");
    ok(await user.access.update(plain.id, policy.id, { priority: 1 }), "policy update");
    ok(await user.access.listGrants(plain.id), "grants");
    ok(await agent.secrets.get(plain.id, "k", { headers: { "X-Client-Share": written.client_share! } }), "agent read");
    ok(await user.access.revoke(plain.id, policy.id), "revoke");
    ok(await user.agents.delete(created.agent.id), "agent delete");
    // A client-custody secret's share refreshed: the new one reads, the old one is refused.
    const refreshed = ok(await user.secrets.refresh(plain.id, "k", written.client_share!), "secret refresh");
    ok(await user.secrets.get(plain.id, "k", { clientShare: refreshed.client_share }), "read with the refreshed share");
    assert.equal((await user.secrets.get(plain.id, "k", { clientShare: written.client_share! })).error?.code, "client_share_invalid");
    // Client-side reconstruction: a seal target, a version sealed by the client, read back sealed and opened here.
    const target = ok(await user.secrets.sealTarget(plain.id, "k"), "seal target");
    const { sealed, clientShare } = await sealForServer(target, new TextEncoder().encode("sealed by the client"));
    ok(await user.secrets.put(plain.id, "k", { sealed }), "sealed put");
    const sealedRead = ok(await user.secrets.getSealed(plain.id, "k"), "sealed read");
    const opened = await openSealedVersion(sealedRead.sealed, clientShare, { vaultId: plain.id, path: "k", version: sealedRead.version });
    assert.equal(new TextDecoder().decode(opened), "sealed by the client");

    // The MPC key lifecycle jobs on a multi-HSM vault.
    const hsm = ok(await user.vault.create({ name: "hsm", custody_mode: "2of3_multi_hsm" }), "multi-hsm vault");
    ok(await user.secrets.put(hsm.id, "h", { value: "held by three" }), "put multi-hsm");
    const untilDone = async (jobId: string) => {
      for (let i = 0; i < 100; i++) {
        const status = ok(await user.vault.mpc.job(hsm.id, jobId), "mpc job");
        if (status.status === "completed" || status.status === "failed") return status;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.fail(`job ${jobId} did not end`);
    };
    assert.equal((await untilDone(ok(await user.vault.mpc.rotate(hsm.id), "mpc rotate").job_id)).status, "completed");
    assert.equal((await untilDone(ok(await user.vault.mpc.refresh(hsm.id), "mpc refresh").job_id)).status, "completed");
    // The development deployment has no fourth slot to move to.
    assert.equal((await user.vault.mpc.replaceProvider(hsm.id, { from: "gcp", to: "aws" })).error?.code, "provider_already_in_vault");
    ok(await user.secrets.get(hsm.id, "h"), "multi-hsm read after the jobs");

    // Members: an invitation, accepted; sign-in; the member's profile and password; roles; removal.
    const invited = ok(await user.org.invite("tour@example.com", "member"), "invite");
    const member = tracedClient({ baseUrl: server.url });
    ok(await member.auth.acceptInvite(invited.invite_token, "first long password", "Tour"), "accept invite");
    const me = ok(await member.auth.getMe(), "getMe");
    ok(await member.auth.updateMe({ display_name: "Tour Member" }), "updateMe");
    ok(await member.auth.changePassword({ current_password: "first long password", new_password: "second long password" }), "change password");
    ok(await member.auth.login("tour@example.com", "second long password"), "login");
    ok(await member.auth.login({ email: "TOUR@example.com", password: "second long password" }), "login (1claw's shape)");
    ok(await user.access.grantHuman(plain.id, me.id, ["read"]), "grant human");
    ok(await user.org.listMembers(), "members");
    ok(await user.org.updateMemberRole(me.id, "admin"), "member role");
    ok(await user.org.removeMember(me.id), "remove member");

    // CMEK: values encrypted by the client; a key rotation job.
    const cmekVault = ok(await user.vault.create({ name: "cmek" }), "cmek vault");
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    ok(await user.vault.enableCmek(cmekVault.id, { fingerprint: fingerprintOf(oldKey) }), "enable cmek");
    ok(await user.secrets.put(cmekVault.id, "c", { value: cmekEncrypt(oldKey, "client-side secret") }), "cmek put");
    const job = ok(await user.vault.rotateCmek(cmekVault.id, oldKey.toString("base64"), newKey.toString("base64"), fingerprintOf(newKey)), "rotate cmek");
    for (let i = 0; i < 100; i++) {
      const status = ok(await user.vault.getRotationJobStatus(cmekVault.id, job.id), "job");
      if (status.status === "completed" || status.status === "failed") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    ok(await user.vault.disableCmek(cmekVault.id), "disable cmek");

    // Sharing: a link share with a passphrase, opened by its link without credentials, listed, revoked; a
    // client-custody share whose link carries its key; a share for an agent, in its inbound list.
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    const sharedHsm = ok(await user.secrets.put(hsm.id, "shared", { value: "for a friend" }), "put shared");
    const link = ok(await user.sharing.create(sharedHsm.id, { recipient_type: "anyone_with_link", expires_at: inAnHour, max_access_count: 2, passphrase: "open sesame ü" }), "share");
    const stranger = tracedClient({ baseUrl: server.url });
    assert.equal(ok(await stranger.sharing.access(link.share_url, { passphrase: "open sesame ü" }), "access").value, "for a friend");
    ok(await user.sharing.listOutbound(), "outbound");
    ok(await user.sharing.revoke(link.id), "revoke share");
    assert.equal((await stranger.sharing.access(link.id, { passphrase: "open sesame ü" })).meta.status, 404, "a revoked share");
    const custody = ok(await user.secrets.put(plain.id, "shared", { value: "client custody" }), "put client custody");
    const sealedLink = ok(await user.sharing.create(custody.id, { recipient_type: "anyone_with_link", expires_at: inAnHour }, { clientShare: custody.client_share! }), "client-custody share");
    assert.match(sealedLink.share_url, /#k=/);
    assert.equal(ok(await stranger.sharing.access(sealedLink.share_url), "client-custody access").value, "client custody");
    const recipient = ok(await user.agents.create({ name: "recipient" }), "recipient agent");
    const forAgent = ok(await user.sharing.create(sharedHsm.id, { recipient_type: "agent", recipient_id: recipient.agent.id, expires_at: inAnHour }), "agent share");
    const recipientClient = tracedClient({ apiKey: recipient.api_key, baseUrl: server.url });
    assert.deepEqual(ok(await recipientClient.sharing.listInbound(), "inbound").shares.map((s) => s.id), [forAgent.id]);
    ok(await recipientClient.sharing.accept(forAgent.id), "accept");
    assert.equal(ok(await recipientClient.sharing.access(forAgent.id), "agent access").value, "for a friend");
    ok(await recipientClient.sharing.decline(forAgent.id), "decline");

    ok(await user.audit.events({ limit: 5, resource_id: plain.id }), "audit");
    ok(await user.audit.query({ action: "secret.read", offset: 0 }), "audit query");
    assert.equal(ok(await user.audit.verify({ limit: 100 }), "audit verify").chain_valid, true);
    assert.ok(ok(await user.audit.export({ from: new Date(0).toISOString() }), "audit export").length > 0);
    ok(await user.vault.delete(vault.id), "vault delete");
    // Some problems, so their schema is checked too.
    await user.vault.get(vault.id);
    await user.secrets.put(plain.id, "k", { value: 1 as never });
    await createClient({ apiKey: "1ck_wrong", baseUrl: server.url }).vault.list();
  });

  after(async () => {
    await server?.stop();
  });

  test("every operation of the document is reached by an SDK method", () => {
    const ops = operationsOf(doc);
    assert.ok(ops.length >= 25, `the document lists ${ops.length} operations`);
    const reached = new Set(exchanges.map((e) => match(ops, e.method, e.path)?.key).filter(Boolean));
    const missing = ops.filter((op) => isApi(op.template)).map((op) => op.key).filter((key) => !reached.has(key) && !EXEMPT.has(key));
    assert.deepEqual(missing, [], "operations no SDK method reaches: add them to packages/sdk");
  });

  test("every request the SDK makes is an operation of the document", () => {
    const ops = operationsOf(doc);
    const unknown = exchanges.filter((e) => !match(ops, e.method, e.path)).map((e) => `${e.method} ${e.path}`);
    assert.deepEqual(unknown, []);
  });

  test("every answer conforms to the document's response schema for its status", () => {
    const Ajv = (AjvModule as any).default ?? AjvModule;
    const addFormats = (formatsModule as any).default ?? formatsModule;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const ops = operationsOf(doc);
    const failures: string[] = [];
    let checked = 0;
    for (const e of exchanges) {
      const op = match(ops, e.method, e.path)!;
      const response = op.responses[String(e.status)] ?? op.responses[`${String(e.status)[0]}XX`];
      if (!response) {
        failures.push(`${op.key}: status ${e.status} is not documented`);
        continue;
      }
      if (e.status === 204) {
        if (e.body !== undefined) failures.push(`${op.key}: 204 with a body`);
        continue;
      }
      const [mediaType, media] = Object.entries<any>(response.content ?? {})[0] ?? [];
      if (!media?.schema) {
        failures.push(`${op.key} ${e.status}: no schema`);
        continue;
      }
      if (!e.contentType.startsWith(mediaType!)) failures.push(`${op.key} ${e.status}: content type ${e.contentType}, documented ${mediaType}`);
      const validate = ajv.compile(media.schema);
      checked++;
      const values = mediaType === api.AUDIT_EXPORT_MEDIA_TYPE ? (e.body as unknown[]) : [e.body];
      for (const value of values) {
        if (!validate(value)) failures.push(`${op.key} ${e.status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(value).slice(0, 300)}`);
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(checked > 40, `${checked} answers checked`);
  });

  test("the document's schemas are @shardvault/api's", () => {
    const body = (template: string, method: string) => doc.paths[template][method].requestBody.content["application/json"].schema;
    const ok201 = (template: string, method: string, status: string) => doc.paths[template][method].responses[status].content["application/json"].schema;
    assert.deepEqual(body("/v1/vaults", "post"), JSON.parse(JSON.stringify(api.createVaultBody)));
    assert.deepEqual(body("/v1/vaults/{vault_id}/secrets/{path}", "put"), JSON.parse(JSON.stringify(api.writeSecretBody)));
    assert.deepEqual(ok201("/v1/vaults/{vault_id}/secrets/{path}", "put", "201"), JSON.parse(JSON.stringify(api.secretWrittenResponse)));
    assert.deepEqual(ok201("/v1/vaults/{vault_id}/secrets/{path}", "get", "200"), JSON.parse(JSON.stringify({ oneOf: [api.secretResponse, api.sealedSecretResponse] })));
    assert.deepEqual(ok201("/v1/vaults/{vault_id}/mpc", "post", "200"), JSON.parse(JSON.stringify(api.vaultMpcResponse)));
    assert.deepEqual(ok201("/v1/agents", "post", "201"), JSON.parse(JSON.stringify(api.agentWithKeyResponse)));
  });

  test("every public SDK method was part of the tour", () => {
    const client = createClient({ token: "t" }) as unknown as Record<string, object>;
    const all: string[] = [];
    for (const resource of RESOURCES) {
      const proto = Object.getPrototypeOf(client[resource]);
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name !== "constructor" && typeof proto[name] === "function" && !name.startsWith("_") && name !== "at") all.push(`${resource}.${name}`);
      }
    }
    assert.deepEqual(all.filter((m) => !called.has(m)), []);
  });
});
