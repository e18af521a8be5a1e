/**
 * Client-side reconstruction in the dashboard, end to end in headless Debian Chromium (playwright-core) against a
 * real server (the built server, PGlite, the development key providers). In client-custody vaults:
 *
 * - a secret written from the dashboard is sealed in the browser: the server receives the sealed version (a seal
 *   target asked first), never the value; the new client share is shown once, and the server opens the version
 *   with it as with any client-custody write;
 * - a reveal asks with `X-Reconstruct: client` and opens the sealed answer in the browser: the value shows, and
 *   no request of the page — URL, header or body — ever carries the client share or an `X-Client-Share` header;
 * - a version written through the API (sealed by the server, Shamir 2-of-3) opens the same way;
 * - a mistyped share, another version's share and a well-formed wrong share each show a clear message, and a
 *   reveal without a share asks for it.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Page, Request } from "playwright-core";
import { api, type Api } from "../../server/test/support/harness.js";
import { skipReason, startBrowserRun, type BrowserRun } from "./support/browser.js";

/** A request as the page sent it: URL, every header and the body. */
interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

describe("client-side reconstruction in the dashboard (headless Chromium)", { skip: skipReason(), timeout: 300_000 }, () => {
  let run: BrowserRun;
  let admin: Api;
  let page: Page;
  const pending: Array<Promise<Sent>> = [];
  const xor = { vault: "", value: `sk_live_${randomBytes(8).toString("hex")}`, share: "" };
  const shamir = { vault: "", value: `ssh-${randomBytes(8).toString("hex")}`, share: "", otherShare: "" };

  /** Everything every tab sent so far (headers as Chromium sent them, not just those playwright guesses). */
  const sent = async (): Promise<Sent[]> => Promise.all(pending);
  const record = (request: Request) =>
    pending.push(request.allHeaders().then((headers) => ({ method: request.method(), url: request.url(), headers, body: request.postData() ?? "" })));
  const apiCalls = async (method: string, pathPart: string) => (await sent()).filter((r) => r.method === method && new URL(r.url).pathname.includes(pathPart));

  /** No request carries `text` anywhere, nor an X-Client-Share header. */
  const assertNeverSent = async (text: string, what: string) => {
    const all = await sent();
    assert.ok(all.length > 5, `only ${all.length} requests seen`);
    for (const request of all) {
      const where = `${request.method} ${request.url}`;
      assert.equal(request.headers["x-client-share"], undefined, `${where} sent an X-Client-Share header`);
      assert.ok(!request.url.includes(text) && !request.url.includes(encodeURIComponent(text)), `${where}: the ${what} is in the URL`);
      assert.ok(!Object.values(request.headers).some((value) => value.includes(text)), `${where}: the ${what} is in a header`);
      assert.ok(!request.body.includes(text), `${where}: the ${what} is in the body`);
    }
  };

  before(async () => {
    run = await startBrowserRun("recon");
    const { server } = run;
    admin = api(server.url, server.adminKey);
    xor.vault = (await admin.post("/v1/vaults", { name: "recon-2of2", custody_mode: "2of2_client_custody" })).body.id;
    shamir.vault = (await admin.post("/v1/vaults", { name: "recon-2of3", custody_mode: "2of3_client_custody" })).body.id;
    // Written through the API: the server seals these versions; the browser must open them all the same.
    for (const [path, value] of [
      ["ssh/deploy", shamir.value],
      ["ssh/other", "another-value"],
    ] as const) {
      const written = await admin.put(`/v1/vaults/${shamir.vault}/secrets/${path}`, { value });
      assert.equal(written.status, 201, written.text);
      if (path === "ssh/deploy") shamir.share = written.body.client_share;
      else shamir.otherShare = written.body.client_share;
    }

    run.context.on("request", record);
    page = run.page;
    await page.goto("/");
    await page.getByLabel("User API key").fill(server.adminKey);
    await page.getByRole("button", { name: "Sign in with API key" }).click();
    await page.getByRole("heading", { level: 1, name: "Vaults" }).waitFor();
  });

  after(async () => {
    await run?.close();
  });

  const openVault = async (name: string) => {
    await page.getByRole("link", { name: "Vaults", exact: true }).click();
    await page.getByRole("link", { name, exact: true }).click();
    await page.getByRole("heading", { level: 1, name }).waitFor();
  };

  const openSecret = async (path: string) => {
    await page.getByRole("button", { name: new RegExp(`^${path.replace(/\//g, "\\/")}, version 1`) }).click();
    await page.getByRole("heading", { level: 2, name: path }).waitFor();
  };

  const reveal = async (share: string) => {
    await page.getByLabel("Client share").fill(share);
    await page.getByRole("button", { name: "Reveal value" }).click();
  };

  const refusal = (text: string) => page.getByRole("alert").getByText(text, { exact: false }).waitFor();

  it("2-of-2: a secret written in the dashboard is sealed in the browser; its share is shown once; the server never sees the value", async () => {
    await openVault("recon-2of2");
    await page.getByRole("button", { name: "New secret" }).click();
    const form = page.getByRole("dialog", { name: "New secret" });
    await form.getByText("Encrypted in this browser", { exact: false }).waitFor();
    await form.getByLabel("Path").fill("api-keys/stripe");
    await form.getByLabel("Type").selectOption("api_key");
    await form.getByLabel("Value").fill(xor.value);
    await form.getByRole("button", { name: "Create secret" }).click();
    const modal = page.getByRole("dialog", { name: /client share/i });
    await modal.getByText("api-keys/stripe, version 1").waitFor();
    xor.share = (await modal.locator(".once-value").textContent()) ?? "";
    assert.match(xor.share, /^[A-Za-z0-9+/]+={0,2}$/);
    await modal.getByRole("button", { name: /close/i }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });

    // The seal target was asked for, then the PUT carried the sealed version and no value.
    assert.equal((await apiCalls("GET", "/secret-seal/api-keys/stripe")).length, 1);
    const puts = await apiCalls("PUT", "/secrets/api-keys/stripe");
    assert.equal(puts.length, 1);
    const body = JSON.parse(puts[0]!.body) as Record<string, unknown>;
    assert.equal(body.value, undefined, "a client-custody write sent the value");
    assert.equal((body.sealed as { version: number }).version, 1);
    assert.equal(body.type, "api_key");
    await assertNeverSent(xor.value, "value");
    await assertNeverSent(xor.share, "client share");

    // The server opens the browser's version with the share, as any client-custody version.
    const read = await admin.get(`/v1/vaults/${xor.vault}/secrets/api-keys/stripe`, { headers: { "x-client-share": xor.share } });
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.value, xor.value);
  });

  it("2-of-2: the reveal opens the sealed version in the browser; the share never leaves it", async () => {
    await openSecret("api-keys/stripe");
    await page.getByLabel("Client share").waitFor();
    await page.getByText("it is never sent to the server", { exact: false }).waitFor();
    const before = (await apiCalls("GET", "/secrets/api-keys/stripe")).length;
    await reveal(xor.share);
    await page.getByText(xor.value, { exact: true }).waitFor();
    assert.equal(await page.getByLabel("Client share").inputValue(), "", "the share field is cleared");
    const reads = (await apiCalls("GET", "/secrets/api-keys/stripe")).slice(before);
    assert.equal(reads.length, 1);
    assert.equal(reads[0]!.headers["x-reconstruct"], "client");
    await assertNeverSent(xor.share, "client share");
    assert.ok(!(await run.storage(page)).includes(xor.share), "the client share is in browser storage");
    await run.shot(page, "revealed-2of2");
    await page.getByRole("button", { name: "Hide", exact: true }).click();
    await page.getByText(xor.value, { exact: true }).waitFor({ state: "detached" });
  });

  it("2-of-3: a version the server sealed opens in the browser with its share; wrong shares say what is wrong", async () => {
    await openVault("recon-2of3");
    await openSecret("ssh/deploy");

    await page.getByRole("button", { name: "Reveal value" }).click();
    await refusal("Paste the client share of this version");

    const typo = shamir.share.slice(0, 10) + (shamir.share[10] === "A" ? "B" : "A") + shamir.share.slice(11);
    await reveal(typo);
    await refusal("This client share has a typo or is cut short");

    await reveal("not a share");
    await refusal("This is not a client share.");

    await reveal(shamir.otherShare);
    await refusal("This client share belongs to another secret or version, not to “ssh/deploy”.");

    // Well-formed and tagged for this version, but not its share: the commitment catches it. A refresh makes one.
    const refreshed = await admin.post(`/v1/vaults/${shamir.vault}/secret-refresh/ssh/deploy`, undefined, { headers: { "x-client-share": shamir.share } });
    assert.equal(refreshed.status, 200, refreshed.text);
    const stale = shamir.share;
    shamir.share = refreshed.body.client_share;
    await reveal(stale);
    await refusal("This client share does not decrypt “ssh/deploy”.");
    await run.axe(page, "reveal-wrong-share");
    await run.shot(page, "reveal-wrong-share");

    await reveal(shamir.share);
    await page.getByText(shamir.value, { exact: true }).waitFor();
    await assertNeverSent(shamir.share, "client share");
    await assertNeverSent(typo, "mistyped client share");
    await assertNeverSent(shamir.otherShare, "other client share");
  });

  it("every request went to the server's own origin; no page error beyond the test's own refusals", async () => {
    for (const request of await sent()) assert.equal(new URL(request.url).origin, run.origin, request.url);
    assert.deepEqual(run.pageErrors, []);
  });
});
