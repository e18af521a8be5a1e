/**
 * Organization members and sign-in over real HTTP, on the embedded database (PGlite) and on PostgreSQL:
 *
 * - invitations: an `svi_` token shown once (never in listings, the audit log or the output), stored as a hash,
 *   single use, replaced by a new invitation for the same email, refused once expired (its row made to expire
 *   in the database); accept-invite sets a password of 12+ characters and signs in;
 * - sign-in (`POST /v1/auth/token`): emails compared case-insensitively; an unknown email, a member without a
 *   password, a wrong password and a short one get the same 401 body; each is audited (auth.login,
 *   auth.login_refused with its reason, never the password, nor an unknown email);
 * - `GET/PATCH /v1/auth/me`, `POST /v1/auth/change-password` (the first-start owner sets a password and signs in
 *   by email; a change ends earlier sessions; a wrong current password is 403);
 * - `GET /v1/org/members`, `PATCH/DELETE /v1/org/members/{id}`: who may do what (members nothing; admins not
 *   with owners; the last owner neither demoted nor removed, 409); a demotion or removal counts from the next
 *   request (sessions, API keys, policies);
 * - an existing database migrates: each organization's first admin becomes its owner, other users keep theirs;
 * - every bad input is a 4xx with its code; the output holds no password, token or key.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { openPglite } from "../src/db/pglite.js";
import { openPostgres } from "../src/db/postgres.js";
import { migrate } from "../src/db/migrate.js";
import { api, assertNoLeak, assertProblem, DATABASE_KINDS, makeTempDir, secretValue, startServer, UUID, type Api } from "./support/harness.js";
import { createTestDatabase, deploy, skipReasonFor, withClient, type Deployment } from "./support/postgres.js";
import { allAuditEvents, grant, makeVault, onDatabase, patch } from "./support/auth-support.js";
import { addMember, PASSWORD, signIn } from "./support/access-support.js";

const MEMBER_FIELDS = ["auth_method", "created_at", "display_name", "email", "id", "role"];

for (const kind of DATABASE_KINDS) {
  describe(`access-members on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let url: string;
    let owner: Api;
    let ownerId: string;
    const sensitive: string[] = [PASSWORD];
    const keep = <T extends string>(s: T) => (sensitive.push(s), s);
    const invite = async (email: string, role?: string) => {
      const res = await owner.post("/v1/org/invite", { email, ...(role ? { role } : {}) });
      assert.equal(res.status, 200, res.text);
      return keep(res.body.invite_token as string);
    };
    const member = async (email: string, role: "owner" | "admin" | "member" = "member") => {
      const m = await addMember(url, owner, email, role);
      keep(m.token);
      keep(m.inviteToken);
      return m;
    };

    before(async () => {
      deployment = await deploy(kind);
      url = deployment.server.url;
      owner = api(url, keep(deployment.server.adminKey));
      ownerId = (await owner.get("/v1/auth/me")).body.id;
    });

    after(async () => {
      await deployment?.dispose();
    });

    test("the first-start admin is the owner; /v1/auth/me and the member list describe members", async () => {
      const me = await owner.get("/v1/auth/me");
      assert.equal(me.status, 200, me.text);
      assert.deepEqual(Object.keys(me.body).sort(), MEMBER_FIELDS);
      assert.deepEqual({ ...me.body, id: undefined, created_at: undefined }, {
        id: undefined, created_at: undefined, email: null, display_name: "admin", role: "owner", auth_method: "api_key",
      });
      const list = await owner.get("/v1/org/members");
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(list.body.members, [me.body]);
    });

    test("an invitation: token shown once, accepted once with a password, then sign-in by email (any case)", async () => {
      const res = await owner.post("/v1/org/invite", { email: "Dana@Example.com" });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get("cache-control"), "no-store");
      assert.deepEqual(Object.keys(res.body).sort(), ["email", "expires_at", "invite_token", "message", "role"]);
      const token = keep(res.body.invite_token as string);
      assert.match(token, /^svi_[A-Za-z0-9_-]{43}$/);
      assert.equal(res.body.role, "member");
      const days = (Date.parse(res.body.expires_at) - Date.now()) / 86_400_000;
      assert.ok(days > 6.9 && days <= 7, `expires in ${days} days`);

      assertProblem(await api(url).post("/v1/auth/accept-invite", { invite_token: token, password: "too short" }), 400, "password_too_short");
      const accepted = await api(url).post("/v1/auth/accept-invite", { invite_token: token, password: PASSWORD, display_name: "Dana D." });
      assert.equal(accepted.status, 200, accepted.text);
      assert.deepEqual(Object.keys(accepted.body).sort(), ["access_token", "expires_in", "token_type"]);
      keep(accepted.body.access_token);
      assertProblem(await api(url).post("/v1/auth/accept-invite", { invite_token: token, password: PASSWORD }), 400, "invite_invalid", undefined, "used twice");
      const me = await api(url, accepted.body.access_token).get("/v1/auth/me");
      assert.deepEqual({ ...me.body, id: undefined, created_at: undefined }, {
        id: undefined, created_at: undefined, email: "Dana@Example.com", display_name: "Dana D.", role: "member", auth_method: "password",
      });
      // Sign-in: the same email in another case; the token names the user and the organization.
      const signed = await api(url).post("/v1/auth/token", { email: "dana@EXAMPLE.com", password: PASSWORD });
      assert.equal(signed.status, 200, signed.text);
      assert.equal(signed.headers.get("cache-control"), "no-store");
      assert.equal(signed.body.token_type, "Bearer");
      assert.equal(signed.body.expires_in, 3600);
      const payload = JSON.parse(Buffer.from(keep(signed.body.access_token as string).split(".")[1]!, "base64url").toString());
      assert.equal(payload.sub, `user:${me.body.id}`);
      assert.match(payload.org, UUID);
      assert.equal((await api(url, signed.body.access_token).get("/v1/auth/me")).body.id, me.body.id);
      // The same email again: already a member.
      assertProblem(await owner.post("/v1/org/invite", { email: "DANA@example.com" }), 409, "member_exists");
      // The token is nowhere else: not in the member list, not in the audit log.
      const listed = await owner.get("/v1/org/members");
      assert.ok(!listed.text.includes(token));
      assertNoLeak(JSON.stringify(await allAuditEvents(owner)), sensitive);
    });

    test("a new invitation replaces the pending one; an expired one is refused like an unknown one", async () => {
      const first = await invite("erin@example.com", "admin");
      const second = await invite("ERIN@example.com");
      assertProblem(await api(url).post("/v1/auth/accept-invite", { invite_token: first, password: PASSWORD }), 400, "invite_invalid", undefined, "replaced");
      assertProblem(await api(url).post("/v1/auth/accept-invite", { invite_token: `svi_${randomBytes(32).toString("base64url")}`, password: PASSWORD }), 400, "invite_invalid");
      const stale = await invite("fay@example.com");
      const hash = createHash("sha256").update(stale).digest();
      await onDatabase(deployment, (db) => db.query("UPDATE invites SET expires_at = now() - interval '1 minute' WHERE token_hash = $1", [hash]));
      if (kind === "pglite") {
        await deployment.restart();
        url = deployment.servers.at(-1)!.url;
        owner = api(url, deployment.server.adminKey);
      }
      assertProblem(await api(url).post("/v1/auth/accept-invite", { invite_token: stale, password: PASSWORD }), 400, "invite_invalid", undefined, "expired");
      const accepted = await api(url).post("/v1/auth/accept-invite", { invite_token: second, password: PASSWORD });
      assert.equal(accepted.status, 200, accepted.text);
      keep(accepted.body.access_token);
      assert.equal((await api(url, accepted.body.access_token).get("/v1/auth/me")).body.role, "member");
    });

    test("sign-in refusals: the same 401 whatever failed; audited with the reason, never the password", async () => {
      const gail = await member("gail@example.com");
      keep(await signIn(url, "gail@example.com"));
      const wrong = keep("wrong password, long enough");
      const attempts: Array<[string, Record<string, unknown>]> = [
        ["wrong password", { email: "gail@example.com", password: wrong }],
        ["unknown email", { email: "nobody@example.com", password: wrong }],
        ["short password", { email: "gail@example.com", password: "short" }],
        ["empty password", { email: "gail@example.com", password: "" }],
      ];
      const bodies = [];
      for (const [label, body] of attempts) {
        const res = await api(url).post("/v1/auth/token", body);
        assertProblem(res, 401, "unauthorized", /^invalid email or password$/, label);
        bodies.push(res.body);
      }
      assert.ok(bodies.every((b) => JSON.stringify(b) === JSON.stringify(bodies[0])), "the refusals differ");
      // The owner has no password yet: refused the same way.
      assertProblem(await api(url).post("/v1/auth/token", { email: "admin", password: PASSWORD }), 401, "unauthorized", /^invalid email or password$/);
      assertProblem(await api(url).post("/v1/auth/token", { email: "gail@example.com" }), 400, "validation_error");

      const events = await allAuditEvents(owner);
      const refused = events.filter((e) => e.action === "auth.login_refused");
      assert.deepEqual(refused.filter((e) => e.actor_id === gail.id).map((e) => e.details), [{ reason: "wrong_password" }, { reason: "wrong_password" }, { reason: "wrong_password" }]);
      const anonymous = refused.filter((e) => e.actor_type === "anonymous");
      assert.ok(anonymous.length >= 2, JSON.stringify(refused));
      assert.ok(anonymous.every((e) => e.actor_id === "00000000-0000-0000-0000-000000000000" && e.details.reason === "unknown_email"));
      const text = JSON.stringify(events);
      assert.ok(!text.includes("nobody@example.com"), "an unknown email is in the audit log");
      assert.ok(!text.includes(wrong) && !text.includes(PASSWORD), "a password is in the audit log");
      assert.ok(events.some((e) => e.action === "auth.login" && e.actor_id === gail.id && e.details.method === "password"));
    });

    test("the owner sets a password and an email, and signs in by email; changing the password ends older sessions", async () => {
      assertProblem(await owner.post("/v1/auth/change-password", { new_password: "short" }), 400, "password_too_short");
      const first = keep("the owner's first password");
      const set = await owner.post("/v1/auth/change-password", { new_password: first });
      assert.equal(set.status, 200, set.text);
      keep(set.body.access_token);
      const me = await patch(owner, "/v1/auth/me", { email: "owner@example.com", display_name: "The Owner" });
      assert.equal(me.status, 200, me.text);
      assert.deepEqual([me.body.email, me.body.display_name, me.body.auth_method], ["owner@example.com", "The Owner", "password"]);
      const session = keep(await signIn(url, "OWNER@example.com", first));
      const sessionApi = api(url, session);
      assert.equal((await sessionApi.get("/v1/auth/me")).body.id, ownerId);
      // Now a current password is needed, and a wrong one is 403.
      assertProblem(await sessionApi.post("/v1/auth/change-password", { new_password: "the owner's next password" }), 403, "wrong_password");
      assertProblem(await sessionApi.post("/v1/auth/change-password", { current_password: "not it at all!", new_password: "the owner's next password" }), 403, "wrong_password");
      const next = keep("the owner's next password");
      const changed = await sessionApi.post("/v1/auth/change-password", { current_password: first, new_password: next });
      assert.equal(changed.status, 200, changed.text);
      keep(changed.body.access_token);
      // The old session ends at once; the answer's token works; the old password no longer signs in.
      assertProblem(await sessionApi.get("/v1/auth/me"), 401, "unauthorized");
      assert.equal((await api(url, changed.body.access_token).get("/v1/auth/me")).status, 200);
      assertProblem(await api(url).post("/v1/auth/token", { email: "owner@example.com", password: first }), 401, "unauthorized");
      keep(await signIn(url, "owner@example.com", next));
      // API keys are not sessions: the owner's key still works.
      assert.equal((await owner.get("/v1/auth/me")).status, 200);
      // Emails stay unique per organization.
      const hal = await member("hal@example.com");
      assertProblem(await patch(hal.as, "/v1/auth/me", { email: "Owner@Example.com" }), 409, "email_taken");
      assertProblem(await owner.post("/v1/org/invite", { email: "owner@EXAMPLE.com" }), 409, "member_exists");
    });

    test("who manages members: members nothing; admins not owners; only owners make owners; the last owner stays", async () => {
      const ivy = await member("ivy@example.com");
      const jon = await member("jon@example.com", "admin");
      // A member manages nobody, and learns nothing by trying.
      for (const [label, call] of [
        ["invite", () => ivy.as.post("/v1/org/invite", { email: "k@example.com" })],
        ["role", () => patch(ivy.as, `/v1/org/members/${jon.id}`, { role: "member" })],
        ["remove", () => ivy.as.delete(`/v1/org/members/${jon.id}`)],
        ["remove unknown", () => ivy.as.delete(`/v1/org/members/${randomUUID()}`)],
        ["agents", () => ivy.as.get("/v1/agents")],
        ["audit", () => ivy.as.get("/v1/audit/events")],
      ] as const) {
        assertProblem(await call(), 403, "forbidden", undefined, label);
      }
      assert.equal((await ivy.as.get("/v1/org/members")).status, 200, "members see who the members are");
      // An admin manages members and admins, not owners.
      assertProblem(await jon.as.post("/v1/org/invite", { email: "k@example.com", role: "owner" }), 403, "forbidden");
      assertProblem(await patch(jon.as, `/v1/org/members/${ivy.id}`, { role: "owner" }), 403, "forbidden");
      assertProblem(await patch(jon.as, `/v1/org/members/${ownerId}`, { role: "admin" }), 403, "forbidden");
      assertProblem(await jon.as.delete(`/v1/org/members/${ownerId}`), 403, "forbidden");
      const promoted = await patch(jon.as, `/v1/org/members/${ivy.id}`, { role: "admin" });
      assert.equal(promoted.status, 200, promoted.text);
      assert.deepEqual(Object.keys(promoted.body).sort(), MEMBER_FIELDS);
      assert.equal(promoted.body.role, "admin");
      // The last owner can be neither demoted nor removed, not even by itself.
      assertProblem(await patch(owner, `/v1/org/members/${ownerId}`, { role: "admin" }), 409, "last_owner");
      assertProblem(await owner.delete(`/v1/org/members/${ownerId}`), 409, "last_owner");
      // With a second owner, the first may step down.
      assert.equal((await patch(owner, `/v1/org/members/${jon.id}`, { role: "owner" })).status, 200);
      assert.equal((await patch(jon.as, `/v1/org/members/${ownerId}`, { role: "admin" })).status, 200);
      assert.equal((await owner.get("/v1/auth/me")).body.role, "admin");
      assertProblem(await patch(jon.as, `/v1/org/members/${jon.id}`, { role: "member" }), 409, "last_owner");
      assert.equal((await patch(jon.as, `/v1/org/members/${ownerId}`, { role: "owner" })).status, 200);
      // Bad input.
      for (const id of [randomUUID(), "not-a-uuid"]) {
        assertProblem(await patch(owner, `/v1/org/members/${id}`, { role: "admin" }), 404, "member_not_found");
        assertProblem(await owner.delete(`/v1/org/members/${id}`), 404, "member_not_found");
      }
      assertProblem(await patch(owner, `/v1/org/members/${ivy.id}`, { role: "king" }), 400, "validation_error");
      assertProblem(await patch(owner, `/v1/org/members/${ivy.id}`, {}), 400, "validation_error");
      for (const body of [{}, { email: "not an email" }, { email: "a@b.c", role: "root" }, { email: 5 }]) {
        assertProblem(await owner.post("/v1/org/invite", body), 400, "validation_error", undefined, JSON.stringify(body));
      }
      for (const body of [{}, { invite_token: "x" }, { password: PASSWORD }, { invite_token: "x", password: PASSWORD, display_name: "" }, { invite_token: "", password: PASSWORD }]) {
        assertProblem(await api(url).post("/v1/auth/accept-invite", body), 400, "validation_error", undefined, JSON.stringify(body));
      }
      assertProblem(await api(url).post("/v1/auth/accept-invite", { invite_token: "x", password: PASSWORD }), 400, "invite_invalid");
      // Agents have no member profile.
      const agent = await owner.post("/v1/agents", { name: "no-profile" });
      keep(agent.body.api_key);
      const agentToken = keep((await api(url).post("/v1/auth/agent-token", { api_key: agent.body.api_key })).body.access_token as string);
      assertProblem(await api(url, agentToken).get("/v1/auth/me"), 403, "forbidden");
      assertProblem(await api(url, agentToken).get("/v1/org/members"), 403, "forbidden");
    });

    test("demotion and removal count from the next request: sessions, API keys and policies", async () => {
      const kim = await member("kim@example.com", "admin");
      const key = await kim.as.post("/v1/auth/api-keys", { name: "kim's key" });
      assert.equal(key.status, 201, key.text);
      const kimKey = api(url, keep(key.body.api_key));
      const vault = await makeVault(owner, "demotion");
      const v = keep(secretValue("demotion"));
      assert.equal((await owner.put(`/v1/vaults/${vault.id}/secrets/x`, { value: v })).status, 201);
      assert.equal((await kim.as.get(`/v1/vaults/${vault.id}/secrets/x`)).body.value, v);
      assert.equal((await kimKey.get(`/v1/vaults/${vault.id}/secrets/x`)).body.value, v);
      // Demoted to member: the same session and key lose the vault at once.
      assert.equal((await patch(owner, `/v1/org/members/${kim.id}`, { role: "member" })).status, 200);
      assertProblem(await kim.as.get(`/v1/vaults/${vault.id}/secrets/x`), 404, "vault_not_found");
      assertProblem(await kimKey.get("/v1/agents"), 403, "forbidden");
      // A policy gives a member what it names.
      await grant(owner, vault.id, { type: "user", id: kim.id }, ["read"]);
      assert.equal((await kimKey.get(`/v1/vaults/${vault.id}/secrets/x`)).body.value, v);
      // Removed: session, key and policy end; the audit log keeps the record.
      const removed = await owner.delete(`/v1/org/members/${kim.id}`);
      assert.equal(removed.status, 204, removed.text);
      assertProblem(await kim.as.get("/v1/auth/me"), 401, "unauthorized");
      assertProblem(await kimKey.get("/v1/vaults"), 401, "unauthorized");
      assertProblem(await api(url).post("/v1/auth/token", { email: "kim@example.com", password: PASSWORD }), 401, "unauthorized");
      assert.deepEqual((await owner.get(`/v1/vaults/${vault.id}/policies`)).body.policies, []);
      assert.ok(!(await owner.get("/v1/org/members")).body.members.some((m: { id: string }) => m.id === kim.id));
      const events = await allAuditEvents(owner);
      assert.ok(events.some((e) => e.action === "member.update" && e.resource_id === kim.id && e.details.from === "admin" && e.details.to === "member"));
      assert.ok(events.some((e) => e.action === "member.remove" && e.resource_id === kim.id && e.details.email === "kim@example.com"));
      assert.ok(events.some((e) => e.action === "member.invite" && e.details.email === "kim@example.com" && e.details.role === "admin"));
      assert.ok(events.some((e) => e.action === "member.join" && e.actor_id === kim.id));
      // The email is free again: a new invitation makes a new member.
      const again = await member("kim@example.com");
      assert.notEqual(again.id, kim.id);
    });

    test("the server's output holds no password, token or key", async () => {
      for (const server of deployment.servers) await server.stop();
      for (const server of deployment.servers) assertNoLeak(server.output(), sensitive);
    });
  });

  describe(`access-members: an existing database migrates (${kind})`, { skip: await skipReasonFor(kind) }, () => {
    test("each organization's first admin becomes its owner; other users keep their role; old keys work", async () => {
      const dataDir = makeTempDir();
      const database = kind === "postgres" ? await createTestDatabase("migrate") : undefined;
      const key = `1ck_${randomBytes(32).toString("base64url")}`;
      const ids = { org: randomUUID(), admin: randomUUID(), other: randomUUID(), otherAdmin: randomUUID(), member: randomUUID(), key: randomUUID() };
      const db = database ? await openPostgres(database.url) : await openPglite(dataDir);
      try {
        // The schema before access control, with its users: `name`, roles admin and member only.
        await migrate(db, { through: 79 });
        await db.query("INSERT INTO organizations (id, name) VALUES ($1, 'default'), ($2, 'other')", [ids.org, ids.other]);
        await db.query(
          `INSERT INTO users (id, org_id, name, role, created_at) VALUES ($1, $2, 'admin', 'admin', now() - interval '2 days'),
             ($3, $4, 'first', 'admin', now() - interval '1 day'), ($5, $4, 'later', 'member', now())`,
          [ids.admin, ids.org, ids.otherAdmin, ids.other, ids.member],
        );
        await db.query("INSERT INTO api_keys (id, org_id, user_id, name, key_hash, key_prefix) VALUES ($1, $2, $3, 'admin (bootstrap)', $4, $5)", [
          ids.key, ids.org, ids.admin, createHash("sha256").update(key).digest(), key.slice(0, 12),
        ]);
        await db.query("INSERT INTO bootstrap (org_id, admin_user_id, admin_key_id) VALUES ($1, $2, $3)", [ids.org, ids.admin, ids.key]);
      } finally {
        await db.close();
      }
      const server = await startServer({ database: kind, dataDir, adminKey: key, ...(database ? { databaseUrl: database.url } : {}) });
      try {
        assert.match(server.output(), /applied migrations: 080_access_control\.sql/);
        const me = await api(server.url, key).get("/v1/auth/me");
        assert.equal(me.status, 200, me.text);
        assert.deepEqual([me.body.id, me.body.role, me.body.display_name, me.body.email], [ids.admin, "owner", "admin", null]);
        assert.equal((await api(server.url, key).post("/v1/vaults", { name: "after-migration" })).status, 201);
      } finally {
        await server.stop();
      }
      const roles = async (query: (sql: string) => Promise<Array<{ id: string; role: string }>>) =>
        Object.fromEntries((await query("SELECT id, role FROM users")).map((r) => [r.id, r.role]));
      const after =
        database
          ? await withClient(database.url, async (c) => roles(async (sql) => (await c.query(sql)).rows))
          : await (async () => {
              const reopened = await openPglite(dataDir);
              try {
                return await roles((sql) => reopened.query(sql));
              } finally {
                await reopened.close();
              }
            })();
      assert.deepEqual(after, { [ids.admin]: "owner", [ids.otherAdmin]: "owner", [ids.member]: "member" });
      await database?.drop();
    });
  });
}
