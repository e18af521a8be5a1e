/**
 * `GET /v1/vaults/{id}/secrets?limit=&cursor=` over HTTP, on PGlite and PostgreSQL:
 *
 * - without `limit` the answer is the whole list as before (1claw's clients), in path order, with no cursor;
 * - pages of `limit` walk that same list in order, each path once, `next_cursor` on every page but the last
 *   (also when the last page is exactly full); the prefix applies to pages too;
 * - bad `limit` and `cursor` values answer 400 problems;
 * - a caller whose policies hide paths gets full pages of what it may read, and no cursor ever names a path
 *   it was not shown.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, assertProblem, DATABASE_KINDS, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { agentToken, createAgent, grant } from "./support/auth-support.js";

interface Page {
  secrets: Array<{ path: string; version: number }>;
  next_cursor?: string;
}

for (const kind of DATABASE_KINDS) {
  describe(`paged secret lists on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let admin: Api;
    let vaultId: string;
    const list = async (client: Api, query: string): Promise<Page> => {
      const res = await client.get(`/v1/vaults/${vaultId}/secrets${query}`);
      assert.equal(res.status, 200, res.text);
      return res.body;
    };
    /** Every page of a list, following cursors. */
    async function walk(client: Api, limit: number, prefix = ""): Promise<Page[]> {
      const pages: Page[] = [];
      let cursor: string | undefined;
      do {
        const query = new URLSearchParams({ limit: String(limit), ...(prefix ? { prefix } : {}), ...(cursor ? { cursor } : {}) });
        pages.push(await list(client, `?${query}`));
        cursor = pages.at(-1)!.next_cursor;
        assert.ok(pages.length <= 50, "the cursors never ended");
      } while (cursor);
      return pages;
    }
    const paths = (pages: Page[]) => pages.flatMap((p) => p.secrets.map((s) => s.path));

    before(async () => {
      deployment = await deploy(kind);
      admin = api(deployment.server.url, deployment.server.adminKey);
      const created = await admin.post("/v1/vaults", { name: "pages" });
      assert.equal(created.status, 201, created.text);
      vaultId = created.body.id;
      // Written out of order; two versions of one path; one path deleted, one with its only version disabled.
      for (const path of ["pg/e", "pg/a", "pg/c", "pg/b", "pg/d", "pg/f", "pg/c", "other/x", "pg/gone", "pg/off"]) {
        const res = await admin.put(`/v1/vaults/${vaultId}/secrets/${path}`, { value: `value of ${path}` });
        assert.equal(res.status, 201, res.text);
      }
      assert.equal((await admin.delete(`/v1/vaults/${vaultId}/secrets/pg/gone`)).status, 204);
      assert.equal((await admin.post(`/v1/vaults/${vaultId}/secret-version-disable/pg/off/1`)).status, 204);
    });
    after(() => deployment?.dispose());

    test("without limit: the whole list in path order, no cursor", async () => {
      const all = await list(admin, "");
      assert.deepEqual(
        all.secrets.map((s) => s.path),
        ["other/x", "pg/a", "pg/b", "pg/c", "pg/d", "pg/e", "pg/f"],
      );
      assert.equal(all.secrets.find((s) => s.path === "pg/c")!.version, 2);
      assert.equal(all.next_cursor, undefined);
      assert.deepEqual(Object.keys(await list(admin, "?prefix=pg/")), ["secrets"]);
    });

    test("pages walk the same list, each path once; the last page has no cursor, also when exactly full", async () => {
      const all = (await list(admin, "")).secrets;
      for (const limit of [1, 2, 3, 7, 1000]) {
        const pages = await walk(admin, limit);
        assert.deepEqual(pages.flatMap((p) => p.secrets), all, `limit ${limit}`);
        assert.ok(pages.every((p) => p.secrets.length === limit || p === pages.at(-1)), `limit ${limit}: a short page before the last`);
        assert.equal(pages.length, Math.ceil(all.length / limit), `limit ${limit}: pages`);
      }
      assert.deepEqual(paths(await walk(admin, 2, "pg/")), ["pg/a", "pg/b", "pg/c", "pg/d", "pg/e", "pg/f"]);
      assert.deepEqual(await walk(admin, 3, "nothing/"), [{ secrets: [] }]);
    });

    test("bad limit or cursor values answer 400 problems", async () => {
      for (const limit of ["0", "1001", "-1", "1.5", "ten", "", "01"]) {
        assertProblem(await admin.get(`/v1/vaults/${vaultId}/secrets?limit=${encodeURIComponent(limit)}`), 400, "validation_error", undefined, `limit ${limit}`);
      }
      assertProblem(await admin.get(`/v1/vaults/${vaultId}/secrets?limit=2&limit=3`), 400, "validation_error");
      const made = (await list(admin, "?limit=1")).next_cursor!;
      const forged = [
        "!!!",
        Buffer.from("not a cursor").toString("base64url"),
        Buffer.from("p1:").toString("base64url"),
        Buffer.from([0x70, 0x31, 0x3a, 0xff, 0xfe]).toString("base64url"),
        `${made}=`,
      ];
      for (const cursor of forged) {
        assertProblem(await admin.get(`/v1/vaults/${vaultId}/secrets?limit=2&cursor=${encodeURIComponent(cursor)}`), 400, "invalid_cursor", undefined, `cursor ${cursor}`);
      }
      assertProblem(await admin.get(`/v1/vaults/${vaultId}/secrets?limit=2&cursor=`), 400, "validation_error", undefined, "empty cursor");
    });

    test("paths the caller may not read fill no page and no cursor names them", async () => {
      const created = await createAgent(admin, { name: "pager", vault_ids: [vaultId], scopes: ["secrets:read"] });
      for (const pattern of ["pg/b", "pg/e", "pg/f"]) await grant(admin, vaultId, { type: "agent", id: created.agent.id }, ["read"], { secret_path_pattern: pattern });
      const agent = api(deployment.server.url, (await agentToken(deployment.server.url, created.api_key)).access_token);
      assert.deepEqual(paths([await list(agent, "")]), ["pg/b", "pg/e", "pg/f"]);
      const pages = await walk(agent, 1);
      assert.deepEqual(pages.map((p) => p.secrets.map((s) => s.path)), [["pg/b"], ["pg/e"], ["pg/f"]]);
      const hidden = ["other/x", "pg/a", "pg/c", "pg/d"];
      for (const page of pages.filter((p) => p.next_cursor)) {
        const named = Buffer.from(page.next_cursor!, "base64url").toString("utf8");
        for (const path of hidden) assert.ok(!named.includes(path), `a cursor names the hidden path ${path}`);
      }
    });
  });
}
