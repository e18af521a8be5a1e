/**
 * Sharing over real HTTP, on the embedded database (PGlite) and on PostgreSQL:
 *
 * - 1claw's golden path: `sharing.create(secretId, {recipient_type: "anyone_with_link", expires_at,
 *   max_access_count})` answers 201 with the contract's fields; `GET /v1/share/{id}` without a token answers
 *   `{id, path, type, value, access_count, max_access_count}`; the outbound list; `DELETE` (the creator) and
 *   the share answers 404 at once;
 * - a share serves the version current when it was made, and goes with it (deleted, disabled);
 * - limits: `max_access_count` (then 404), expiry (then 404); expired, used-up, revoked, declined and unknown
 *   shares answer the same 404; 20 concurrent opens of a one-time share give exactly one value (on PostgreSQL
 *   also spread over two instances), of a share of a one-time secret too;
 * - passphrases (argon2id, the hash stored, never the passphrase; UTF-8 in the header) and `ip_allowlist`;
 *   refused opens use up nothing;
 * - shares for a member, an agent, the agent's creator: the recipient's token only; inbound lists, accept and
 *   decline; `external_email` recorded, by users only;
 * - access: creating needs `read` on the path (policies) and `shares:write` when scopes are set; revoking is
 *   the creator's (or an owner's or admin's);
 * - client custody: creating needs `X-Client-Share`; the link carries the key (`#k=`), opening needs it in
 *   `X-Share-Key`; a dump of the database holds neither the key nor the value;
 * - every bad input is a 4xx problem; every open (and refused open) is audited, without values, passphrases or
 *   keys; the audit chain stays valid; the server's output holds no value, key, passphrase or token;
 * - with the default limits, share creation is limited to 10 a minute per organization (429 `rate_limited`
 *   with `Retry-After`), counted for every principal of the organization together, and on PostgreSQL by every
 *   instance together.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { encodeContext, open } from "@shardvault/crypto";
import { api, assertNoLeak, assertProblem, DATABASE_KINDS, DEV_SLOTS, expiringSoon, secretValue, UUID, type Api, type ApiResponse } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { allAuditEvents, grant, makeVault, onDatabase } from "./support/auth-support.js";
import { addMember, agentClient, JSON_HEADERS, type Member } from "./support/access-support.js";
import { scanTables, shareNeedles, writeLocalConfig, type Needle } from "./support/mpc-support.js";

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const CREATED_FIELDS = ["expires_at", "id", "recipient_type", "share_url"];
const OPENED_FIELDS = ["access_count", "id", "max_access_count", "path", "type", "value"];
const LISTED_FIELDS = ["access_count", "created_at", "expires_at", "id", "is_accepted", "is_expired", "max_access_count", "recipient_type", "secret_path"];
/** A passphrase as a client sends it in a header: its UTF-8 bytes. */
const headerBytes = (text: string) => Buffer.from(text, "utf8").toString("latin1");

for (const kind of DATABASE_KINDS) {
  describe(`shares on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let url: string;
    let admin: Api;
    let anyone: Api;
    let ownerId: string;
    let member: Member;
    let vaultId: string;
    /** Shares made with a passphrase: the dump (last test) must hold its argon2id hash only. */
    const passphraseShares: Array<{ id: string; passphrase: string }> = [];
    const sensitive: string[] = [];
    const keep = <T extends string>(s: T) => (sensitive.push(s), s);

    /** Writes a fresh value at `path` in `vault` (as `as`); answers its id (the secret_id to share) and value. */
    async function secret(path: string, as: Api = admin, vault = vaultId, extra: Record<string, unknown> = {}): Promise<{ id: string; value: string; version: number; client_share?: string }> {
      const value = keep(secretValue(path.replace(/\//g, "-")));
      const put = await as.put(`/v1/vaults/${vault}/secrets/${path}`, { value, ...extra });
      assert.equal(put.status, 201, put.text);
      if (put.body.client_share) keep(put.body.client_share);
      return { id: put.body.id, value, version: put.body.version, ...(put.body.client_share ? { client_share: put.body.client_share } : {}) };
    }

    /** `POST /v1/secrets/{id}/share`, asserting 201 and the contract's fields; answers the share. */
    async function share(secretId: string, body: Record<string, unknown> = {}, as: Api = admin, headers: Record<string, string> = {}): Promise<any> {
      const res = await as.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: inAnHour(), ...body }, { headers });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.headers.get("cache-control"), "no-store");
      assert.match(res.body.id, UUID);
      return res.body;
    }

    const openShare = (id: string, headers: Record<string, string> = {}, as: Api = anyone) => as.get(`/v1/share/${id}`, { headers });

    function assertOpened(res: ApiResponse, expected: { id: string; value: string; path: string; access_count: number; max_access_count: number | null }, context = ""): void {
      assert.equal(res.status, 200, `${context}: ${res.text}`);
      assert.deepEqual(Object.keys(res.body).sort(), OPENED_FIELDS, context);
      assert.deepEqual({ ...res.body, type: undefined }, { ...expected, type: undefined }, context);
      assert.equal(res.headers.get("cache-control"), "no-store", context);
    }

    /** The 404 every share that does not open answers, alike but for the id it names. */
    const assertGone = (res: ApiResponse, id: string, context = "") => {
      assertProblem(res, 404, "share_not_found", undefined, context);
      assert.equal(res.body.detail, `share ${id} not found (it may have expired, been used up or revoked)`, context);
    };

    before(async () => {
      // The development slots, with share creation and opening unlimited: these tests make and open many shares a
      // minute from one address (the contract's limit of 10 creations a minute per organization is tested below,
      // with the default limits; openings per address in http-rate-limits.test.ts).
      const config = writeLocalConfig(DEV_SLOTS, { rate_limits: { share_creation: null, share_opening: null } });
      deployment = await deploy(kind, { env: { SHARDVAULT_CONFIG: config.path } });
      url = deployment.server.url;
      keep(deployment.server.adminKey);
      admin = api(url, deployment.server.adminKey);
      anyone = api(url);
      ownerId = (await admin.get("/v1/auth/me")).body.id;
      member = await addMember(url, admin, "share-member@example.com");
      keep(member.token);
      keep(member.inviteToken);
      vaultId = (await makeVault(admin, "sharing")).id;
    });

    after(async () => {
      await deployment?.dispose();
    });

    test("golden path with 1claw's body: create, open without a token, list, revoke; 404 at once after", async () => {
      const s = await secret("api-keys/stripe");
      const expiresAt = inAnHour();
      // client.sharing.create(secretId, {recipient_type, expires_at, max_access_count}) as 1claw's SDK sends it.
      const created = await admin.post(`/v1/secrets/${s.id}/share`, { recipient_type: "anyone_with_link", expires_at: expiresAt, max_access_count: 3 }, JSON_HEADERS);
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(Object.keys(created.body).sort(), [...CREATED_FIELDS, "max_access_count"].sort());
      const { id } = created.body;
      assert.deepEqual(created.body, { id, share_url: `${url}/share/${id}`, recipient_type: "anyone_with_link", expires_at: new Date(expiresAt).toISOString(), max_access_count: 3 });

      assertOpened(await openShare(id), { id, path: "api-keys/stripe", value: s.value, access_count: 1, max_access_count: 3 });
      // A token is not needed, and not in the way either.
      assertOpened(await openShare(id, {}, admin), { id, path: "api-keys/stripe", value: s.value, access_count: 2, max_access_count: 3 });

      const listed = await admin.get("/v1/shares/outbound", JSON_HEADERS);
      assert.equal(listed.status, 200, listed.text);
      const entry = listed.body.shares.find((x: { id: string }) => x.id === id);
      assert.deepEqual(Object.keys(entry).sort(), LISTED_FIELDS);
      assert.deepEqual(entry, {
        id, secret_path: "api-keys/stripe", recipient_type: "anyone_with_link", access_count: 2, max_access_count: 3,
        expires_at: new Date(expiresAt).toISOString(), created_at: entry.created_at, is_expired: false, is_accepted: false,
      });
      assert.deepEqual((await member.as.get("/v1/shares/outbound")).body, { shares: [] }, "another member's outbound list");

      const revoked = await admin.delete(`/v1/share/${id}`, JSON_HEADERS);
      assert.equal(revoked.status, 204, revoked.text);
      assert.equal(revoked.text, "");
      assertGone(await openShare(id), id, "after revoking");
      assertGone(await admin.delete(`/v1/share/${id}`), id, "revoking twice");
      assert.equal((await admin.get("/v1/shares/outbound")).body.shares.some((x: { id: string }) => x.id === id), false, "a revoked share leaves the list");
    });

    test("a share serves the version current when it was made, and goes with it", async () => {
      const v1 = await secret("db/password");
      const s1 = await share(v1.id);
      const v2 = await secret("db/password");
      assert.equal(v2.version, 2);
      assertOpened(await openShare(s1.id), { id: s1.id, path: "db/password", value: v1.value, access_count: 1, max_access_count: null }, "after a newer version");
      const s2 = await share(v2.id);
      assertOpened(await openShare(s2.id), { id: s2.id, path: "db/password", value: v2.value, access_count: 1, max_access_count: null });

      assert.equal((await admin.post(`/v1/vaults/${vaultId}/secret-version-disable/db/password/1`)).status, 204);
      assertGone(await openShare(s1.id), s1.id, "its version disabled");
      assertOpened(await openShare(s2.id), { id: s2.id, path: "db/password", value: v2.value, access_count: 2, max_access_count: null });
      assert.equal((await admin.delete(`/v1/vaults/${vaultId}/secrets/db/password`)).status, 204);
      assertGone(await openShare(s2.id), s2.id, "its secret deleted");
      // Sharing a deleted version is refused as reading it is.
      assertProblem(await admin.post(`/v1/secrets/${v2.id}/share`, { recipient_type: "anyone_with_link", expires_at: inAnHour() }), 410, "secret_deleted");
    });

    test("max_access_count, expiry: then 404 like an unknown share; the secret's own limit counts share opens", async () => {
      const s = await secret("limited");
      const once = await share(s.id, { max_access_count: 1 });
      assertOpened(await openShare(once.id), { id: once.id, path: "limited", value: s.value, access_count: 1, max_access_count: 1 });
      assertGone(await openShare(once.id), once.id, "used up");

      const soon = expiringSoon();
      const expiring = await share(s.id, { expires_at: soon.expiresAt });
      await soon.passed();
      assertGone(await openShare(expiring.id), expiring.id, "expired");
      const listed = (await admin.get("/v1/shares/outbound")).body.shares;
      assert.equal(listed.find((x: { id: string }) => x.id === expiring.id).is_expired, true);
      assert.equal(listed.find((x: { id: string }) => x.id === once.id).is_expired, true, "a used-up share no longer opens either");

      const unknown = "00000000-0000-4000-8000-000000000000";
      assertGone(await openShare(unknown), unknown, "unknown");
      assertGone(await openShare("not-a-uuid"), "not-a-uuid", "not an id");

      // A secret readable twice, shared without a limit: the share's opens are reads of it.
      const twice = await secret("twice", admin, vaultId, { max_access_count: 2 });
      const open = await share(twice.id);
      assertOpened(await openShare(open.id), { id: open.id, path: "twice", value: twice.value, access_count: 1, max_access_count: null });
      assert.equal((await admin.get(`/v1/vaults/${vaultId}/secrets/twice`)).status, 200);
      assertGone(await openShare(open.id), open.id, "the secret used up");
    });

    test("20 concurrent opens of a one-time share: exactly one value; of a share of a one-time secret too", async () => {
      for (const [label, s, body] of [
        ["one-time share", await secret("race/share"), { max_access_count: 1 }],
        ["one-time secret", await secret("race/secret", admin, vaultId, { max_access_count: 1 }), {}],
      ] as const) {
        const sh = await share(s.id, body);
        const answers = await Promise.all(Array.from({ length: 20 }, () => openShare(sh.id)));
        const opened = answers.filter((a) => a.status === 200);
        assert.equal(opened.length, 1, `${label}: ${answers.map((a) => a.status).join(",")}`);
        assert.equal(opened[0]!.body.value, s.value);
        for (const a of answers.filter((x) => x.status !== 200)) assertGone(a, sh.id, label);
        const events = (await allAuditEvents(admin)).filter((e) => e.action === "share.access" && e.resource_id === sh.id);
        assert.equal(events.length, 1, `${label}: one open audited`);
      }
    });

    if (kind === "postgres") {
      test("20 concurrent opens of a one-time share spread over two instances: exactly one value", async () => {
        const second = await deployment.restart();
        const s = await secret("race/instances");
        const sh = await share(s.id, { max_access_count: 1 });
        const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => api(i % 2 ? second.url : url).get(`/v1/share/${sh.id}`)));
        assert.deepEqual(answers.map((a) => a.status).sort(), [200, ...Array(19).fill(404)]);
        assert.equal(answers.find((a) => a.status === 200)!.body.value, s.value);
        await second.stop();
      });
    }

    test("passphrase: required, wrong, right (UTF-8); refused opens use nothing up; only an argon2id hash is stored", async () => {
      const s = await secret("pass");
      const passphrase = keep(`pässwörd ${randomBytes(6).toString("hex")} 🔑`);
      const sh = await share(s.id, { passphrase, max_access_count: 1 });
      assertProblem(await openShare(sh.id), 401, "passphrase_required");
      assertProblem(await openShare(sh.id, { "X-Share-Passphrase": "" }), 401, "passphrase_required");
      assertProblem(await openShare(sh.id, { "X-Share-Passphrase": headerBytes(passphrase.slice(0, -1)) }), 401, "passphrase_invalid");
      assertProblem(await openShare(sh.id, { "X-Share-Passphrase": headerBytes(passphrase.toUpperCase()) }), 401, "passphrase_invalid");
      assertOpened(await openShare(sh.id, { "x-share-passphrase": headerBytes(passphrase) }), { id: sh.id, path: "pass", value: s.value, access_count: 1, max_access_count: 1 });
      assertGone(await openShare(sh.id, { "X-Share-Passphrase": headerBytes(passphrase) }), sh.id);
      passphraseShares.push({ id: sh.id, passphrase });
    });

    test("ip_allowlist: an allowed address opens, another is refused (403) without using anything up", async () => {
      const s = await secret("ip");
      const elsewhere = await share(s.id, { ip_allowlist: ["10.0.0.0/8", "2001:db8::/32"], max_access_count: 1 });
      assertProblem(await openShare(elsewhere.id), 403, "share_ip_not_allowed");
      const here = await share(s.id, { ip_allowlist: ["10.0.0.0/8", "127.0.0.1"], max_access_count: 1 });
      assertOpened(await openShare(here.id), { id: here.id, path: "ip", value: s.value, access_count: 1, max_access_count: 1 });
    });

    test("shares for a member, an agent and the agent's creator: the recipient's token only; inbound, accept, decline", async () => {
      const s = await secret("team/token");
      const other = await addMember(url, admin, `other-${randomBytes(3).toString("hex")}@example.com`);
      keep(other.token);
      keep(other.inviteToken);
      const forMember = await share(s.id, { recipient_type: "user", recipient_id: member.id, max_access_count: 5 });
      assertProblem(await openShare(forMember.id), 401, "unauthorized", /recipient's token/);
      assertGone(await openShare(forMember.id, {}, other.as), forMember.id, "another member");
      assertGone(await openShare(forMember.id, {}, admin), forMember.id, "the owner who made it");
      assertOpened(await openShare(forMember.id, {}, member.as), { id: forMember.id, path: "team/token", value: s.value, access_count: 1, max_access_count: 5 });

      const inbound = await member.as.get("/v1/shares/inbound", JSON_HEADERS);
      assert.equal(inbound.status, 200, inbound.text);
      assert.deepEqual(inbound.body.shares.map((x: { id: string }) => x.id), [forMember.id]);
      assert.equal(inbound.body.shares[0].is_accepted, false);
      assert.deepEqual((await other.as.get("/v1/shares/inbound")).body, { shares: [] });
      assertGone(await other.as.post(`/v1/shares/${forMember.id}/accept`), forMember.id, "accepted by someone else");
      const accepted = await member.as.post(`/v1/shares/${forMember.id}/accept`, undefined, JSON_HEADERS);
      assert.equal(accepted.status, 204, accepted.text);
      assert.equal((await member.as.get("/v1/shares/inbound")).body.shares[0].is_accepted, true);
      assert.equal((await member.as.post(`/v1/shares/${forMember.id}/decline`)).status, 204);
      assertGone(await openShare(forMember.id, {}, member.as), forMember.id, "declined");
      assert.deepEqual((await member.as.get("/v1/shares/inbound")).body, { shares: [] }, "a declined share leaves the inbound list");
      assertGone(await member.as.post(`/v1/shares/${forMember.id}/accept`), forMember.id, "accepting after declining");

      // An agent recipient, and the agent sharing back with its creator (the owner, who registered it).
      const bot = await agentClient(url, admin, { name: `bot-${randomBytes(3).toString("hex")}` });
      keep(bot.created.api_key);
      keep(bot.token);
      const forAgent = await share(s.id, { recipient_type: "agent", recipient_id: bot.created.agent.id });
      assertGone(await openShare(forAgent.id, {}, member.as), forAgent.id, "a member opening an agent's share");
      assertOpened(await openShare(forAgent.id, {}, bot.as), { id: forAgent.id, path: "team/token", value: s.value, access_count: 1, max_access_count: null });
      assert.deepEqual((await bot.as.get("/v1/shares/inbound")).body.shares.map((x: { id: string }) => x.id), [forAgent.id]);

      await grant(admin, vaultId, { type: "agent", id: bot.created.agent.id }, ["read"]);
      const back = await share(s.id, { recipient_type: "creator", max_access_count: 5 }, bot.as);
      assert.equal(back.recipient_type, "creator");
      assertGone(await openShare(back.id, {}, bot.as), back.id, "the agent opening its share to its creator");
      assertOpened(await openShare(back.id, {}, admin), { id: back.id, path: "team/token", value: s.value, access_count: 1, max_access_count: 5 });
      assert.ok((await admin.get("/v1/shares/inbound")).body.shares.some((x: { id: string; recipient_type: string }) => x.id === back.id && x.recipient_type === "creator"));
      assert.ok((await bot.as.get("/v1/shares/outbound")).body.shares.some((x: { id: string }) => x.id === back.id));
      assertProblem(await admin.post(`/v1/secrets/${s.id}/share`, { recipient_type: "creator", expires_at: inAnHour() }), 400, "validation_error", /agents/);

      // external_email: recorded and answered; the link opens like any link; agents may not send them.
      const mailed = await share(s.id, { recipient_type: "external_email", email: "Someone@Example.com" });
      assert.equal(mailed.recipient_email, "Someone@Example.com");
      assert.equal(mailed.share_url, `${url}/share/${mailed.id}`);
      assertOpened(await openShare(mailed.id), { id: mailed.id, path: "team/token", value: s.value, access_count: 1, max_access_count: null });
      const toMember = await share(s.id, { recipient_type: "external_email", email: "SHARE-MEMBER@example.com" });
      assert.ok((await member.as.get("/v1/shares/inbound")).body.shares.some((x: { id: string }) => x.id === toMember.id), "an email share shows in the inbound list of the member with that address");
      assertProblem(await bot.as.post(`/v1/secrets/${s.id}/share`, { recipient_type: "external_email", email: "x@example.com", expires_at: inAnHour() }), 403, "forbidden");
    });

    test("access: read on the path to create, shares:write when scoped; revoking is the creator's, an owner's or an admin's", async () => {
      const s = await secret("guarded/key");
      // The member has no policy on the owner's vault: the vault is invisible to it.
      assertProblem(await member.as.post(`/v1/secrets/${s.id}/share`, { recipient_type: "anyone_with_link", expires_at: inAnHour() }), 404, "vault_not_found");
      const readOther = await grant(admin, vaultId, { type: "user", id: member.id }, ["read"], { secret_path_pattern: "other/**" });
      assertProblem(await member.as.post(`/v1/secrets/${s.id}/share`, { recipient_type: "anyone_with_link", expires_at: inAnHour() }), 403, "access_denied", /read on guarded\/key/);
      await grant(admin, vaultId, { type: "user", id: member.id }, ["read"], { secret_path_pattern: "guarded/*" });
      const byMember = await share(s.id, {}, member.as);
      assert.equal((await admin.delete(`/v1/vaults/${vaultId}/policies/${readOther.id}`)).status, 204);

      // Scopes: a key without shares:write is refused; one with it (and no secrets scope) shares what its user reads.
      const keyFor = async (scopes: string[]) => {
        const made = await admin.post("/v1/auth/api-keys", { name: `k-${scopes.join("-")}`, scopes });
        assert.equal(made.status, 201, made.text);
        return api(url, keep(made.body.api_key));
      };
      assertProblem(await (await keyFor(["secrets:read"])).post(`/v1/secrets/${s.id}/share`, { recipient_type: "anyone_with_link", expires_at: inAnHour() }), 403, "scope_missing", /shares:write/);
      const sharer = await keyFor(["shares:write"]);
      const byKey = await share(s.id, {}, sharer);
      assertProblem(await (await keyFor(["secrets:read"])).delete(`/v1/share/${byKey.id}`), 403, "scope_missing");

      // Another member may not revoke the owner's share; the owner may revoke the member's.
      const mine = await share(s.id);
      assertGone(await member.as.delete(`/v1/share/${mine.id}`), mine.id, "a member revoking another's share");
      assertOpened(await openShare(mine.id), { id: mine.id, path: "guarded/key", value: s.value, access_count: 1, max_access_count: null });
      assert.equal((await admin.delete(`/v1/share/${byMember.id}`)).status, 204);
      assertGone(await openShare(byMember.id), byMember.id);
    });

    test("a CMEK-encrypted version is not shared (409): a recipient could not read it", async () => {
      const cmek = await makeVault(admin, "cmek-share");
      const key = randomBytes(32);
      const fingerprint = createHash("sha256").update(key).digest("hex");
      assert.equal((await admin.post(`/v1/vaults/${cmek.id}/cmek`, { fingerprint })).status, 200);
      const blob = Buffer.concat([Buffer.from([1]), randomBytes(12), randomBytes(20), randomBytes(16)]).toString("base64");
      const put = await admin.put(`/v1/vaults/${cmek.id}/secrets/c`, { value: blob });
      assert.equal(put.status, 201, put.text);
      assertProblem(await admin.post(`/v1/secrets/${put.body.id}/share`, { recipient_type: "anyone_with_link", expires_at: inAnHour() }), 409, "share_cmek_unsupported");
    });

    test("bad input: a 4xx problem for each, never a 5xx", async () => {
      const s = await secret("bad/input");
      const create = (body: unknown, id = s.id) => admin.post(`/v1/secrets/${id}/share`, body);
      const base = { recipient_type: "anyone_with_link", expires_at: inAnHour() };
      const cases: Array<[string, unknown, number, string]> = [
        ["no body", undefined, 400, "validation_error"],
        ["not an object", [1], 400, "validation_error"],
        ["no expires_at", { recipient_type: "anyone_with_link" }, 400, "validation_error"],
        ["no recipient_type", { expires_at: inAnHour() }, 400, "validation_error"],
        ["unknown recipient_type", { ...base, recipient_type: "everyone" }, 400, "validation_error"],
        ["expires_at not a time", { ...base, expires_at: "tomorrow" }, 400, "validation_error"],
        ["expires_at in the past", { ...base, expires_at: "2001-01-01T00:00:00Z" }, 400, "expires_at_in_past"],
        ["max_access_count 0", { ...base, max_access_count: 0 }, 400, "validation_error"],
        ["max_access_count a string", { ...base, max_access_count: "3" }, 400, "validation_error"],
        ["max_access_count too large", { ...base, max_access_count: 2 ** 31 }, 400, "validation_error"],
        ["empty passphrase", { ...base, passphrase: "" }, 400, "validation_error"],
        ["passphrase with a line break", { ...base, passphrase: "a\r\nb" }, 400, "invalid_passphrase"],
        ["passphrase with a lone surrogate", { ...base, passphrase: "a\ud800b" }, 400, "invalid_passphrase"],
        ["passphrase too long", { ...base, passphrase: "x".repeat(1025) }, 400, "validation_error"],
        ["ip_allowlist not addresses", { ...base, ip_allowlist: ["nope"] }, 400, "invalid_ip_allowlist"],
        ["ip_allowlist empty", { ...base, ip_allowlist: [] }, 400, "invalid_ip_allowlist"],
        ["ip_allowlist not a list", { ...base, ip_allowlist: "127.0.0.1" }, 400, "validation_error"],
        ["user share without recipient_id", { ...base, recipient_type: "user" }, 400, "validation_error"],
        ["recipient_id not a UUID", { ...base, recipient_type: "agent", recipient_id: "bot" }, 400, "validation_error"],
        ["recipient_id of nobody", { ...base, recipient_type: "user", recipient_id: "00000000-0000-4000-8000-000000000001" }, 400, "recipient_not_found"],
        ["a member's id as an agent", { ...base, recipient_type: "agent", recipient_id: member.id }, 400, "recipient_not_found"],
        ["recipient_id on a link share", { ...base, recipient_id: member.id }, 400, "validation_error"],
        ["email on a user share", { ...base, recipient_type: "user", recipient_id: member.id, email: "a@b.c" }, 400, "validation_error"],
        ["external_email without email", { ...base, recipient_type: "external_email" }, 400, "validation_error"],
        ["external_email with a bad email", { ...base, recipient_type: "external_email", email: "not an email" }, 400, "validation_error"],
        ["a NUL in the email", { ...base, recipient_type: "external_email", email: "a\u0000@b.c" }, 400, "validation_error"],
      ];
      for (const [label, body, status, code] of cases) assertProblem(await create(body), status, code, undefined, label);
      assertProblem(await admin.post(`/v1/secrets/${s.id}/share`, undefined, { rawBody: "{", headers: { "content-type": "application/json" } }), 400, "invalid_json");
      assertProblem(await admin.post(`/v1/secrets/${s.id}/share`, undefined, { rawBody: "x", headers: { "content-type": "text/plain" } }), 415, "unsupported_media_type");
      assertProblem(await create(base, "not-a-uuid"), 404, "secret_not_found");
      assertProblem(await create(base, "00000000-0000-4000-8000-000000000002"), 404, "secret_not_found");
      assertProblem(await anyone.post(`/v1/secrets/${s.id}/share`, base), 401, "unauthorized");
      assertProblem(await anyone.get("/v1/shares/outbound"), 401, "unauthorized");
      assertProblem(await anyone.delete(`/v1/share/${s.id}`), 401, "unauthorized");
      for (const id of ["not-a-uuid", "00000000-0000-4000-8000-000000000003"]) {
        assertGone(await admin.delete(`/v1/share/${id}`), id, `revoke ${id}`);
        assertGone(await admin.post(`/v1/shares/${id}/accept`), id, `accept ${id}`);
        assertGone(await admin.post(`/v1/shares/${id}/decline`), id, `decline ${id}`);
      }
      const long = "a".repeat(3000);
      assert.ok((await openShare(long)).status < 500);
      assertProblem(await openShare("%zz"), 400, "invalid_url");
    });

    test("audit: every open, refused open, creation and revocation, without values, passphrases or keys; the chain stays valid", async () => {
      const s = await secret("audited");
      const passphrase = keep(`audit-${randomBytes(8).toString("hex")}`);
      const sh = await share(s.id, { passphrase, max_access_count: 2 });
      passphraseShares.push({ id: sh.id, passphrase });
      assertProblem(await openShare(sh.id, { "X-Share-Passphrase": "wrong" }), 401, "passphrase_invalid");
      assert.equal((await openShare(sh.id, { "X-Share-Passphrase": passphrase })).status, 200);
      assert.equal((await admin.delete(`/v1/share/${sh.id}`)).status, 204);
      const events = (await allAuditEvents(admin)).filter((e) => e.resource_id === sh.id).reverse();
      assert.deepEqual(events.map((e) => e.action), ["share.create", "share.access_refused", "share.access", "share.revoke"]);
      const [created, refusedOpen, opened, revoked] = events;
      assert.equal(created!.actor_id, ownerId);
      assert.equal(created!.resource_type, "share");
      assert.deepEqual(created!.details, {
        vault_id: vaultId, path: "audited", version: 1, recipient_type: "anyone_with_link", expires_at: created!.details.expires_at, max_access_count: 2, passphrase: true, link_key: false,
      });
      assert.equal(refusedOpen!.actor_type, "anonymous");
      assert.equal(refusedOpen!.details.reason, "passphrase_invalid");
      assert.equal(opened!.actor_type, "anonymous");
      assert.equal(opened!.ip_address, "127.0.0.1");
      assert.deepEqual(opened!.details, { vault_id: vaultId, path: "audited", version: 1, recipient_type: "anyone_with_link", access_count: 1 });
      assert.equal(revoked!.actor_id, ownerId);
      const text = JSON.stringify(await allAuditEvents(admin));
      for (const secretText of [s.value, passphrase]) assert.ok(!text.includes(secretText), "a value or passphrase in the audit log");
      const verify = await admin.get("/v1/audit/verify?limit=10000");
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.body.chain_valid, true, verify.text);
    });

    test("client custody: X-Client-Share to create, the link key in the fragment only, X-Share-Key to open; the dump holds neither key nor value", async () => {
      const cc = await makeVault(admin, "client-custody-share", { custody_mode: "2of3_client_custody" });
      const s = await secret("cc/secret", admin, cc.id);
      const body = { recipient_type: "anyone_with_link", expires_at: inAnHour(), max_access_count: 3 };
      assertProblem(await admin.post(`/v1/secrets/${s.id}/share`, body), 400, "client_share_required");
      const sh = await share(s.id, body, admin, { "X-Client-Share": s.client_share! });
      const match = /^(.*)#k=([A-Za-z0-9_-]{43})$/.exec(sh.share_url);
      assert.ok(match, sh.share_url);
      assert.equal(match[1], `${url}/share/${sh.id}`);
      const linkKey = keep(match[2]!);

      assertProblem(await openShare(sh.id), 400, "share_key_required");
      assertProblem(await openShare(sh.id, { "X-Share-Key": "AAAA" }), 400, "share_key_malformed");
      assertProblem(await openShare(sh.id, { "X-Share-Key": `${linkKey.slice(0, 42)}_` }), 400, "share_key_malformed", undefined, "a non-canonical last character");
      assertProblem(await openShare(sh.id, { "X-Share-Key": randomBytes(32).toString("base64url") }), 400, "share_key_invalid");
      assertOpened(await openShare(sh.id, { "X-Share-Key": linkKey }), { id: sh.id, path: "cc/secret", value: s.value, access_count: 1, max_access_count: 3 });
      // Refused opens used up nothing; the key of one share opens no other.
      const other = await share(s.id, body, admin, { "X-Client-Share": s.client_share! });
      assertProblem(await openShare(other.id, { "X-Share-Key": linkKey }), 400, "share_key_invalid");
      const events = (await allAuditEvents(admin)).filter((e) => e.resource_id === sh.id).map((e) => e.details.reason ?? e.action).reverse();
      assert.deepEqual(events, ["share.create", "share_key_required", "share_key_malformed", "share_key_malformed", "share_key_invalid", "share.access"]);

      // Concurrent opens of a one-time client-custody share: one value.
      const once = await share(s.id, { ...body, max_access_count: 1 }, admin, { "X-Client-Share": s.client_share! });
      const onceKey = keep(once.share_url.split("#k=")[1]);
      const answers = await Promise.all(Array.from({ length: 20 }, () => openShare(once.id, { "X-Share-Key": onceKey })));
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, ...Array(19).fill(404)]);

      // A multi-HSM vault's share stores no copy: the server opens the version itself, as for a read.
      const hsm = await makeVault(admin, "hsm-share", { custody_mode: "2of3_multi_hsm" });
      const h = await secret("hsm/secret", admin, hsm.id);
      const hs = await share(h.id);
      assert.equal(hs.share_url, `${url}/share/${hs.id}`);
      assertOpened(await openShare(hs.id), { id: hs.id, path: "hsm/secret", value: h.value, access_count: 1, max_access_count: null });

      assertNoLeak(deployment.servers.map((x) => x.output()).join(""), sensitive);
      // Last: on PGlite the dump stops the server.
      const key = Buffer.from(linkKey, "base64url");
      const needles: Needle[] = [
        { label: "link key (bytes)", bytes: key },
        { label: "link key (base64url)", bytes: Buffer.from(linkKey) },
        { label: "link key (base64)", bytes: Buffer.from(key.toString("base64").replace(/=+$/, "")) },
        { label: "link key (hex)", bytes: Buffer.from(key.toString("hex")) },
        { label: "value", bytes: Buffer.from(s.value) },
        { label: "multi-HSM value", bytes: Buffer.from(h.value) },
        ...shareNeedles(s.client_share!),
        ...passphraseShares.map(({ passphrase }) => ({ label: "passphrase", bytes: Buffer.from(passphrase) })),
      ];
      const { scan, sealed, hsmRow, hashes } = await onDatabase(deployment, async (db) => ({
        scan: await scanTables(db, needles),
        sealed: (await db.query("SELECT sealed_value FROM secret_shares WHERE id = $1", [sh.id])).rows[0].sealed_value as Uint8Array,
        hsmRow: (await db.query("SELECT sealed_value FROM secret_shares WHERE id = $1", [hs.id])).rows[0],
        hashes: (await db.query("SELECT passphrase_hash FROM secret_shares WHERE id = ANY($1::uuid[])", [passphraseShares.map((p) => p.id)])).rows.map((r) => r.passphrase_hash as string),
      }));
      assert.deepEqual(scan.hits, []);
      assert.equal(hashes.length, 2);
      for (const hash of hashes) assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.ok(scan.tables.includes("secret_shares") && scan.rows > 0);
      assert.equal(hsmRow.sealed_value, null);
      // Positive control: the stored copy is the value sealed under the link key (and bound to its share).
      const context = encodeContext({ purpose: "share-link-value", format: 1, share_id: sh.id });
      assert.equal(open(key, sealed, context).toString("utf8"), s.value);
      assert.throws(() => open(key, sealed, encodeContext({ purpose: "share-link-value", format: 1, share_id: other.id })));
    });
  });
}

for (const kind of DATABASE_KINDS) {
  describe(`share creation rate limit on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;

    before(async () => {
      deployment = await deploy(kind);
    });
    after(async () => {
      await deployment?.dispose();
    });

    test("10 a minute per organization, whoever creates them (and on PostgreSQL wherever): the 11th is 429 with Retry-After", async () => {
      const { url } = deployment.server;
      const admin = api(url, deployment.server.adminKey);
      const member = await addMember(url, admin, "limited@example.com");
      const vault = (await makeVault(admin, "limited")).id;
      await grant(admin, vault, { type: "user", id: member.id }, ["read"]);
      const put = await admin.put(`/v1/vaults/${vault}/secrets/s`, { value: secretValue("limited") });
      assert.equal(put.status, 201, put.text);
      // On PostgreSQL a second instance counts with the first.
      const other = kind === "postgres" ? api((await deployment.restart()).url, deployment.server.adminKey) : admin;
      const otherMember = kind === "postgres" ? api(deployment.servers[1]!.url, member.token) : member.as;
      const create = (as: Api) => as.post(`/v1/secrets/${put.body.id}/share`, { recipient_type: "anyone_with_link", expires_at: inAnHour() });
      for (const [i, as] of [admin, member.as, other, otherMember, admin, member.as, other, otherMember, admin, member.as].entries()) {
        assert.equal((await create(as)).status, 201, `share ${i + 1}`);
      }
      for (const as of [admin, member.as, other, otherMember]) {
        const refused = await create(as);
        assertProblem(refused, 429, "rate_limited", /too many shares created: at most 10 per 60 s per organization/);
        const retryAfter = Number(refused.headers.get("retry-after"));
        assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${refused.headers.get("retry-after")}`);
      }
      // Nothing was created by the refused calls; opening shares is not limited by it.
      const outbound = [...(await admin.get("/v1/shares/outbound")).body.shares, ...(await member.as.get("/v1/shares/outbound")).body.shares];
      assert.equal(outbound.length, 10);
      assert.equal((await api(url).get(`/v1/share/${outbound[0].id}`)).status, 200);
    });
  });
}
