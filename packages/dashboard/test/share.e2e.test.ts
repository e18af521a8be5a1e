/**
 * Sharing in the dashboard, end to end in headless Debian Chromium (playwright-core) against a real server
 * (the built server, PGlite, the development key providers):
 *
 * - the server answers `/share/{id}` with the dashboard's page and its strict CSP;
 * - a signed-in user shares a secret from its detail view (a passphrase, one opening) and sees the link once;
 * - in another tab, not signed in, the link's page asks before opening anything, then for the passphrase
 *   (a wrong one is refused), reveals the value with copy, hides it by itself, and says clearly when the share
 *   is gone (used up, revoked);
 * - client custody: the form asks for the client share; the link carries the key after `#k=`, which the page
 *   sends only as `X-Share-Key` (never in a URL); a link without its key, or with another, says so;
 * - axe-core (no serious or critical violation) and screenshots at 1280 px and 375 px; every request goes to
 *   the server's own origin; no page error beyond the refusals the test provokes.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Page, Request } from "playwright-core";
import { api, type Api } from "../../server/test/support/harness.js";
import { PHONE, skipReason, startBrowserRun, type BrowserRun } from "./support/browser.js";

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
/** The console errors Chromium logs for the refusals this test provokes (passphrase, gone, a wrong key). */
const PROVOKED = /Failed to load resource: the server responded with a status of (400|401|404)/;

describe("sharing in the dashboard (headless Chromium)", { skip: skipReason(), timeout: 300_000 }, () => {
  let run: BrowserRun;
  let admin: Api;
  let page: Page;
  let origin: string;
  /** The requests every tab made, with their headers. */
  const requests: Request[] = [];
  const plain = { value: `sk_live_${randomBytes(8).toString("hex")}`, vault: "", id: "" };
  const custody = { value: `deploy-${randomBytes(8).toString("hex")}`, vault: "", id: "", share: "" };
  /** The link the share form showed for the plain vault's secret. */
  let plainLink = "";

  /** A new tab (its own sessionStorage, so not signed in), at `url` when given. */
  const anonymousTab = async (url?: string) => {
    const tab = await run.newPage();
    if (url !== undefined) await tab.goto(url);
    return tab;
  };

  before(async () => {
    run = await startBrowserRun("share");
    const { server } = run;
    origin = run.origin;
    admin = api(server.url, server.adminKey);
    plain.vault = (await admin.post("/v1/vaults", { name: "share-plain" })).body.id;
    const put = await admin.put(`/v1/vaults/${plain.vault}/secrets/api-keys/stripe`, { value: plain.value, type: "api_key" });
    assert.equal(put.status, 201, put.text);
    plain.id = put.body.id;
    custody.vault = (await admin.post("/v1/vaults", { name: "share-custody", custody_mode: "2of2_client_custody" })).body.id;
    const written = await admin.put(`/v1/vaults/${custody.vault}/secrets/keys/deploy`, { value: custody.value });
    assert.equal(written.status, 201, written.text);
    custody.id = written.body.id;
    custody.share = written.body.client_share;

    run.context.on("request", (request) => requests.push(request));
    page = run.page;
    await page.goto("/");
    await page.getByLabel("User API key").fill(server.adminKey);
    await page.getByRole("button", { name: "Sign in with API key" }).click();
    await page.getByRole("heading", { level: 1, name: "Vaults" }).waitFor();
  });

  after(async () => {
    await run?.close();
  });

  const openSecret = async (vault: string, path: string) => {
    await page.getByRole("link", { name: "Vaults", exact: true }).click();
    await page.getByRole("link", { name: vault, exact: true }).click();
    await page.getByRole("heading", { level: 1, name: vault }).waitFor();
    await page.getByRole("button", { name: new RegExp(`^${path.replace(/\//g, "\\/")}, version 1`) }).click();
    await page.getByRole("heading", { level: 2, name: path }).waitFor();
  };

  /** The link of the open "Share link" dialog, which is then closed; nothing of it stays in the page. */
  const takeLink = async (path: string): Promise<string> => {
    const dialog = page.getByRole("dialog", { name: `Share link for “${path}”` });
    await dialog.waitFor();
    const link = ((await dialog.locator(".once-value").textContent()) ?? "").trim();
    await dialog.getByRole("button", { name: "Copy share link" }).waitFor();
    return link;
  };
  const closeLink = async (link: string) => {
    await page.getByRole("button", { name: "Done — close" }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });
    assert.ok(!(await page.content()).includes(link), "the link stays in the page after its dialog closed");
  };

  const shareRequests = () => requests.filter((r) => new URL(r.url()).pathname.startsWith("/v1/share/"));

  it("answers /share/{id} with the dashboard's page and its CSP", async () => {
    const res = await fetch(`${run.server.url}/share/0b9c5a8e-2f43-4f4e-9a51-3c1f0f1e2d3c`, { headers: { accept: "text/html" } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'self'; script-src 'self'/);
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  });

  it("shares a secret from its detail view: passphrase, one opening; the link is shown once", async () => {
    await openSecret("share-plain", "api-keys/stripe");
    await page.getByRole("button", { name: "Share", exact: true }).click();
    const form = page.getByRole("dialog", { name: "Share “api-keys/stripe”" });
    await form.getByText("Shares version 1, as it is now").waitFor();
    assert.equal(await form.getByLabel("Client share", { exact: false }).count(), 0, "no client share outside client custody");
    await run.axe(page, "form");
    await run.shot(page, "form");
    await form.getByLabel("Openings allowed (empty: no limit)").fill("1");
    await form.getByLabel("Passphrase (optional)").fill("open sesame");
    await form.getByRole("button", { name: "Create share link" }).click();
    const link = await takeLink("api-keys/stripe");
    assert.match(link, new RegExp(`^${origin}/share/[0-9a-f-]{36}$`));
    await page.getByText("opens at most 1 time", { exact: false }).waitFor();
    await run.axe(page, "link");
    await run.shot(page, "link");
    await closeLink(link);
    assert.ok(!(await page.content()).includes("open sesame"));
    plainLink = link;
  });

  it("opens the link in a tab not signed in: nothing before asked, the passphrase, the value with copy, auto-hide, then gone", async () => {
    const tab = await anonymousTab();
    await tab.clock.install();
    await tab.goto(plainLink);
    await tab.getByRole("heading", { level: 2, name: "Someone shared a secret with you" }).waitFor();
    assert.equal(shareRequests().length, 0, "the share was opened before it was asked for");
    await run.axe(tab, "ready");
    await run.shot(tab, "ready");

    await tab.getByRole("button", { name: "Reveal secret" }).click();
    const field = tab.getByLabel("Passphrase");
    await field.waitFor();
    await run.axe(tab, "passphrase");
    await run.shot(tab, "passphrase");
    await field.fill("not it");
    await tab.getByRole("button", { name: "Open with passphrase" }).click();
    await tab.getByRole("alert").getByText("That passphrase is not this share's").waitFor();
    assert.equal(await field.inputValue(), "", "the passphrase field is cleared after each try");
    await field.fill("open sesame");
    await tab.getByRole("button", { name: "Open with passphrase" }).click();
    await tab.getByText(plain.value, { exact: true }).waitFor();
    await tab.getByRole("button", { name: "Copy value" }).waitFor();
    await tab.getByText("Hides in 30 s").waitFor();
    await tab.getByText("This share has been opened 1 of 1 times.").waitFor();
    await run.axe(tab, "revealed");
    await run.shot(tab, "revealed");
    assert.ok(!(await tab.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }))).includes(plain.value), "the value is in browser storage");

    await tab.clock.fastForward(31_000);
    await tab.getByText(plain.value, { exact: true }).waitFor({ state: "detached" });
    await tab.getByText("Hidden. The value is no longer on this page.").waitFor();
    assert.equal(await tab.getByRole("button", { name: /Reveal again/ }).count(), 0, "a used-up share offers no second opening");

    await tab.reload();
    await tab.getByRole("button", { name: "Reveal secret" }).click();
    await tab.getByRole("heading", { level: 2, name: "This share is no longer available" }).waitFor();
    await tab.getByText("expired, been opened as many times as it allows, or been revoked", { exact: false }).waitFor();
    await run.axe(tab, "gone");
    await run.shot(tab, "gone");
    // No request of this tab carried a token: it is not signed in.
    assert.ok(shareRequests().every((r) => r.headers().authorization === undefined));
    await tab.close();
  });

  it("client custody: the form asks for the client share; the key travels only as X-Share-Key; a link without it or with another says so", async () => {
    await openSecret("share-custody", "keys/deploy");
    await page.getByRole("button", { name: "Share", exact: true }).click();
    const form = page.getByRole("dialog", { name: "Share “keys/deploy”" });
    await form.getByLabel("Client share of version 1").fill(custody.share);
    await form.getByLabel("Openings allowed (empty: no limit)").fill("");
    await run.shot(page, "form-client-custody");
    await form.getByRole("button", { name: "Create share link" }).click();
    const link = await takeLink("keys/deploy");
    const match = /^(.+\/share\/[0-9a-f-]{36})#k=([A-Za-z0-9_-]{43})$/.exec(link);
    assert.ok(match, link);
    const [, bare, key] = match;
    await page.getByText("Shown only once — it cannot be recovered.").waitFor();
    await run.shot(page, "link-client-custody");
    await closeLink(link);
    assert.ok(!(await page.content()).includes(custody.share), "the client share stays in the page");

    const before = shareRequests().length;
    const tab = await anonymousTab(link);
    await tab.getByRole("button", { name: "Reveal secret" }).click();
    await tab.getByText(custody.value, { exact: true }).waitFor();
    await tab.getByText("This share has been opened 1 time.").waitFor();
    const opened = shareRequests().slice(before);
    assert.equal(opened.length, 1);
    assert.equal(opened[0]!.url(), `${origin}/v1/share/${bare!.split("/").pop()}`);
    assert.equal(opened[0]!.headers()["x-share-key"], key);
    assert.ok(requests.every((r) => !r.url().includes(key!)), "the link key appeared in a URL");
    await tab.close();

    // Each in a tab of its own: a new fragment alone does not load the page again.
    const cut = await anonymousTab(bare!);
    await cut.getByRole("button", { name: "Reveal secret" }).click();
    await cut.getByRole("heading", { level: 2, name: "This link is incomplete" }).waitFor();
    await run.axe(cut, "incomplete");
    await run.shot(cut, "incomplete");
    await cut.close();
    const other = await anonymousTab(`${bare}#k=${randomBytes(32).toString("base64url")}`);
    await other.getByRole("button", { name: "Reveal secret" }).click();
    await other.getByRole("heading", { level: 2, name: "This link's key does not open the share" }).waitFor();
    await other.close();

    // Revoked: gone at once.
    assert.equal((await admin.delete(`/v1/share/${bare!.split("/").pop()}`)).status, 204);
    const revoked = await anonymousTab(link);
    await revoked.getByRole("button", { name: "Reveal secret" }).click();
    await revoked.getByRole("heading", { level: 2, name: "This share is no longer available" }).waitFor();
    await revoked.close();
  });

  it("works at 375 px: axe and screenshots of the share page, ready and revealed", async () => {
    const created = await admin.post(`/v1/secrets/${plain.id}/share`, { recipient_type: "anyone_with_link", expires_at: inAnHour(), max_access_count: 2 });
    assert.equal(created.status, 201, created.text);
    const tab = await anonymousTab();
    await tab.setViewportSize(PHONE);
    await tab.goto(created.body.share_url);
    await tab.getByRole("heading", { level: 2, name: "Someone shared a secret with you" }).waitFor();
    await run.axe(tab, "ready");
    await run.shot(tab, "ready");
    await tab.getByRole("button", { name: "Reveal secret" }).click();
    await tab.getByText(plain.value, { exact: true }).waitFor();
    await run.axe(tab, "revealed");
    await run.shot(tab, "revealed");
    await tab.getByRole("button", { name: "Hide", exact: true }).click();
    await tab.getByRole("button", { name: "Reveal again (counts as another opening)" }).click();
    await tab.getByText("This share has been opened 2 of 2 times.").waitFor();
    const overflow = await tab.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the share page is ${overflow} px wider than the screen`);
    await tab.close();
  });

  it("every request went to the server's own origin; no page error beyond the provoked refusals", () => {
    assert.ok(requests.length > 10, `only ${requests.length} requests seen`);
    const foreign = run.requests.filter((url) => !url.startsWith("data:") && new URL(url.startsWith("blob:") ? url.slice(5) : url).origin !== origin);
    assert.deepEqual(foreign, []);
    assert.deepEqual(run.pageErrors.filter((text) => !PROVOKED.test(text)), []);
  });
});
