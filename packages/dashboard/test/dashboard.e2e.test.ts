/**
 * The dashboard end to end, in headless Debian Chromium driven by playwright-core, against a real server
 * (the server suite's harness: the built server, PGlite, the development key providers) serving the built
 * dashboard (`npm run build -w @shardvault/dashboard`, run by the root `prepare`).
 *
 * One session walks the path: sign in, create vaults (listed newest first, also after a reload),
 * enable each MPC mode from the Settings card,
 * write a secret and see its client share once, read it back with the share, fail with a mistyped share and see
 * the dashboard say so, rotate, disable a version, delete a secret, create, deactivate and re-key an agent, delete a vault, sign
 * out. Throughout, every request the page makes must go to the server's own origin, the API key must never
 * be in a URL or in storage, and the page must raise no CSP violation. axe-core runs on each main page at
 * 1280 px and 375 px (no serious or critical violations); screenshots go to artifacts/screenshots/.
 *
 * Needs Debian's `chromium` (/usr/bin/chromium): without it the suite skips, naming the package, except with
 * CI=true, where it fails.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { api, type ServerHandle } from "../../server/test/support/harness.js";
import { DESKTOP, PHONE, skipReason, startBrowserRun, type BrowserRun } from "./support/browser.js";

describe("dashboard end to end (headless Chromium)", { skip: skipReason(), timeout: 300_000 }, () => {
  let run: BrowserRun;
  let server: ServerHandle;
  let page: Page;
  let origin: string;
  let requests: string[];
  let pageErrors: string[];

  /** Shares and keys the page was shown: none may stay in the DOM or in storage after its modal closes. */
  const shownOnce: string[] = [];

  before(async () => {
    run = await startBrowserRun();
    ({ server, page, origin, requests, pageErrors } = run);
  });

  after(async () => {
    await run?.close();
  });

  const shot = (name: string) => run.shot(page, name);
  const axe = (name: string) => run.axe(page, name);
  const storage = () => run.storage(page);

  const openVault = async (name: string) => {
    await page.getByRole("link", { name: "Vaults", exact: true }).click();
    await page.getByRole("link", { name, exact: true }).click();
    await page.getByRole("heading", { level: 1, name }).waitFor();
  };

  const openTab = async (name: "Secrets" | "Settings") => {
    await page.getByRole("tab", { name }).click();
    await assert.doesNotReject(page.getByRole("tab", { name, selected: true }).waitFor());
  };

  const enableMpc = async (vault: string, modeLabel: string, modeName: string) => {
    await openVault(vault);
    await openTab("Settings");
    const card = page.getByRole("region", { name: "MPC Secret Storage" });
    await card.getByLabel("Custody mode").selectOption({ label: modeLabel });
    await confirmEnable(vault, modeLabel);
    await card.getByText(modeName).waitFor();
    return card;
  };

  /** Enabling MPC is irreversible: the card asks first, naming the mode and the vault. */
  const confirmEnable = async (vault: string, modeLabel: string) => {
    await page.getByRole("region", { name: "MPC Secret Storage" }).getByRole("button", { name: "Enable MPC" }).click();
    const dialog = page.getByRole("dialog", { name: `Enable ${modeLabel} on “${vault}”?` });
    await dialog.getByText("This cannot be undone", { exact: false }).waitFor();
    await dialog.getByRole("button", { name: "Enable MPC for good" }).click();
    await dialog.waitFor({ state: "detached" });
  };

  const createSecret = async (path: string, value: string, opts: { type?: string; metadata?: string } = {}) => {
    await page.getByRole("button", { name: "New secret" }).click();
    const dialog = page.getByRole("dialog", { name: "New secret" });
    await dialog.getByLabel("Path").fill(path);
    if (opts.type) await dialog.getByLabel("Type").selectOption(opts.type);
    await dialog.getByLabel("Value").fill(value);
    if (opts.metadata) await dialog.getByLabel(/Metadata/).fill(opts.metadata);
    await dialog.getByRole("button", { name: "Create secret" }).click();
    await dialog.waitFor({ state: "detached" });
  };

  /** Reads the shares of the open shown-once modal, then closes it. */
  const takeShares = async (): Promise<string[]> => {
    const dialog = page.getByRole("dialog", { name: /client share/i });
    await dialog.waitFor();
    await dialog.getByText("cannot be recovered").waitFor();
    const shares = await dialog.locator(".once-value").allTextContents();
    assert.ok(shares.length > 0);
    for (const share of shares) assert.match(share, /^[A-Za-z0-9+/]+={0,2}$/);
    await dialog.getByRole("button", { name: "Copy client share", exact: false }).first().waitFor();
    await dialog.getByRole("button", { name: /^Download client share/ }).first().waitFor();
    return shares;
  };

  const closeSharesModal = async (shares: string[]) => {
    await page.getByRole("dialog", { name: /client share/i }).getByRole("button", { name: /close/i }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });
    const html = await page.content();
    for (const share of shares) assert.ok(!html.includes(share), "a client share stays in the page after its modal closed");
    shownOnce.push(...shares);
  };

  it("serves the dashboard with a strict CSP, nosniff and no-referrer; the API keeps its JSON 404", async () => {
    const index = await fetch(server.url + "/", { headers: { accept: "text/html" } });
    assert.equal(index.status, 200);
    assert.match(index.headers.get("content-type") ?? "", /^text\/html/);
    const csp = index.headers.get("content-security-policy") ?? "";
    for (const part of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) {
      assert.ok(csp.includes(part), `CSP lacks ${part}: ${csp}`);
    }
    assert.ok(!/unsafe-inline|unsafe-eval/.test(csp));
    assert.equal(index.headers.get("x-content-type-options"), "nosniff");
    assert.equal(index.headers.get("referrer-policy"), "no-referrer");
    const html = await index.text();
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), "inline script in index.html");
    assert.ok(!/<style|style=/i.test(html), "inline style in index.html");
    const assets = [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.some((a) => a.endsWith(".js")) && assets.some((a) => a.endsWith(".css")));
    for (const asset of assets) {
      const res = await fetch(server.url + asset);
      assert.equal(res.status, 200, asset);
      const type = res.headers.get("content-type") ?? "";
      if (asset.endsWith(".js")) assert.match(type, /^(text|application)\/javascript/, asset);
      if (asset.endsWith(".css")) assert.match(type, /^text\/css/, asset);
      if (asset.endsWith(".svg")) assert.match(type, /^image\/svg\+xml/, asset);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff", asset);
    }
    // Dashboard routes load the page; unknown API routes stay the JSON problem.
    const deep = await fetch(server.url + "/vaults/abc/settings", { headers: { accept: "text/html" } });
    assert.equal(deep.status, 200);
    assert.match(deep.headers.get("content-type") ?? "", /^text\/html/);
    const unknownApi = await fetch(server.url + "/v1/no-such-route", { headers: { accept: "text/html" } });
    assert.equal(unknownApi.status, 404);
    assert.match(unknownApi.headers.get("content-type") ?? "", /^application\/problem\+json/);
    assert.equal(((await unknownApi.json()) as { code: string }).code, "not_found");
  });

  it("signs in with the API key: a wrong key shows the API's detail; only a JWT is kept", async () => {
    await page.goto("/");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await axe("sign-in");
    await shot("sign-in");

    const wrongKey = "1ck_" + "A".repeat(43);
    const expected = await api(server.url).post("/v1/auth/api-key-token", { api_key: wrongKey });
    await page.getByLabel("User API key").fill(wrongKey);
    await page.getByRole("button", { name: "Sign in with API key" }).click();
    await page.getByRole("alert").getByText(expected.body.detail as string).waitFor();
    await shot("sign-in-error");

    await page.getByLabel("User API key").fill(server.adminKey);
    await page.getByRole("button", { name: "Sign in with API key" }).click();
    await page.getByRole("heading", { level: 1, name: "Vaults" }).waitFor();
    assert.equal(new URL(page.url()).pathname, "/vaults");
    const stored = await storage();
    assert.ok(!stored.includes(server.adminKey), "the API key is in browser storage");
    assert.match(stored, /eyJ/, "the session token is kept in sessionStorage");
    await page.getByText("No vaults yet").waitFor();
    await axe("vaults-empty");
    await shot("vaults-empty");
  });

  /** The vault names in the order the Vaults page lists them. */
  const listedVaults = async () => {
    await page.locator(".vault-list .vault-name").first().waitFor();
    return page.locator(".vault-list .vault-name").allTextContents();
  };

  it("creates vaults, newest first before and after a reload, and the delete confirmation names the vault", async () => {
    const names = ["payments", "mpc-client-2of2", "mpc-multi-hsm", "mpc-client-2of3", "scratch"];
    for (const name of names) {
      await page.getByLabel("Vault name").fill(name);
      await page.getByRole("button", { name: "Create vault" }).click();
      await page.getByRole("link", { name, exact: true }).waitFor();
    }
    // One order: a new vault lands where a reload puts it.
    assert.deepEqual(await listedVaults(), [...names].reverse());
    await page.reload();
    assert.deepEqual(await listedVaults(), [...names].reverse(), "after a reload");
    await page.getByRole("button", { name: "Delete vault scratch" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete vault “scratch”?" });
    await dialog.getByText("scratch", { exact: true }).waitFor();
    await dialog.getByRole("button", { name: "Delete “scratch”" }).click();
    await dialog.waitFor({ state: "detached" });
    await page.getByRole("link", { name: "scratch", exact: true }).waitFor({ state: "detached" });
    await axe("vaults");
    await shot("vaults");
  });

  it("2-of-2 client custody: enable from Settings, write, see the share once, read back with it, fail with a wrong one", async () => {
    await openVault("mpc-client-2of2");
    await openTab("Settings");
    const card = page.getByRole("region", { name: "MPC Secret Storage" });
    // Each mode has its trust line, naming what backs each slot here (local key files, not cloud KMSs); the
    // client-custody reminder shows for client modes.
    for (const line of [
      "Neither Shardvault nor gcp (local key file) alone can decrypt",
      "any 2 of gcp (local key file), aws (local key file) and azure (local key file) decrypt",
      "Any 2 of gcp (local key file), aws (local key file) and your client share decrypt",
    ]) {
      await card.getByText(line, { exact: false }).waitFor();
    }
    await card.getByLabel("Custody mode").selectOption("2of2_client_custody");
    await card.getByText("You must store it securely", { exact: false }).first().waitFor();
    // The provider slots and their health.
    await card.getByRole("list", { name: "Share holders and their health" }).getByText("gcp", { exact: true }).waitFor();
    await card.getByText("local (development)", { exact: false }).first().waitFor();
    await axe("settings-before");
    await shot("settings-before");

    // Asked first; saying no changes nothing.
    await card.getByRole("button", { name: "Enable MPC" }).click();
    const asked = page.getByRole("dialog", { name: "Enable 2-of-2 Client Custody on “mpc-client-2of2”?" });
    await axe("enable-mpc-confirm");
    await shot("enable-mpc-confirm");
    await asked.getByRole("button", { name: "Cancel" }).click();
    await asked.waitFor({ state: "detached" });
    await card.getByText("Not enabled", { exact: true }).waitFor();
    await confirmEnable("mpc-client-2of2", "2-of-2 Client Custody");
    await card.getByText("2of2_client_custody").waitFor();
    await card.getByText("2 of 2 shares").waitFor();
    await card.getByText("You must store it securely", { exact: false }).waitFor();
    assert.equal(await card.getByLabel("Custody mode").count(), 0, "the mode is read-only once enabled");
    await card.getByRole("button", { name: "Enable MPC" }).waitFor({ state: "detached" });
    await axe("settings-enabled");
    await shot("settings-enabled");

    await openTab("Secrets");
    await page.getByText("No secrets yet").waitFor();
    await shot("secrets-empty");
    const value = "sk_live_" + Math.random().toString(36).slice(2);
    await createSecret("api-keys/stripe", value, { type: "api_key", metadata: '{"owner": "payments"}' });
    const shares = await takeShares();
    assert.equal(shares.length, 1);
    await axe("client-share-modal");
    await shot("client-share-modal");
    await closeSharesModal(shares);
    assert.ok(!(await storage()).includes(shares[0]!), "the client share is in browser storage");

    // The tree shows the folder and the secret; select it.
    await page.getByRole("button", { name: /^api-keys\/ 1 secret$/ }).waitFor();
    await page.getByRole("button", { name: /^api-keys\/stripe, version 1/ }).click();
    await page.getByRole("heading", { level: 2, name: "api-keys/stripe" }).waitFor();
    await page.getByText("Hidden.", { exact: false }).waitFor();
    assert.ok(!(await page.content()).includes(value), "the value is shown before it was asked for");

    // A mistyped share: refused in the browser, in place (client-reconstruction.e2e.test.ts covers the others).
    const wrong = shares[0]!.slice(0, 10) + (shares[0]![10] === "A" ? "B" : "A") + shares[0]!.slice(11);
    await page.getByLabel("Client share").fill(wrong);
    await page.getByRole("button", { name: "Reveal value" }).click();
    await page.getByRole("alert").getByText("This client share has a typo", { exact: false }).waitFor();
    assert.equal(await page.getByLabel("Client share").inputValue(), "", "the share field is cleared after the reveal");
    await shot("reveal-wrong-share");

    // The right share: the value, with copy and hide; the field is cleared.
    await page.getByLabel("Client share").fill(shares[0]!);
    await page.getByRole("button", { name: "Reveal value" }).click();
    await page.getByText(value, { exact: true }).waitFor();
    assert.equal(await page.getByLabel("Client share").inputValue(), "");
    await page.getByRole("button", { name: "Copy value" }).waitFor();
    assert.ok(!(await storage()).includes(shares[0]!));
    await axe("secret-revealed");
    await shot("secret-revealed");
    await page.getByRole("button", { name: "Hide", exact: true }).click();
    await page.getByText(value, { exact: true }).waitFor({ state: "detached" });

    // The share is opened in the browser: never in a URL (the reconstruction suite checks headers and bodies too).
    assert.ok(requests.every((url) => !url.includes(encodeURIComponent(shares[0]!)) && !url.includes(shares[0]!)));
  });

  it("2-of-3 multi-HSM: enable, write, reveal without a share, rotate-generate, disable a version", async () => {
    const card = await enableMpc("mpc-multi-hsm", "2-of-3 Multi-HSM", "2of3_multi_hsm");
    await card.getByText("2 of 3 shares").waitFor();
    for (const slot of ["gcp", "aws", "azure"]) await card.getByText(slot, { exact: true }).waitFor();
    // The card has rendered its mode and slots: a warning it were to show would be there by now.
    assert.equal(await card.getByText("You must store it securely", { exact: false }).count(), 0);
    await shot("settings-multi-hsm");

    await openTab("Secrets");
    const value = "db-password-" + Math.random().toString(36).slice(2);
    await createSecret("db/primary/password", value, { type: "password" });
    assert.equal(await page.getByRole("dialog").count(), 0, "no client share in multi-HSM mode");
    await page.getByRole("button", { name: /^db\/primary\/password, version 1/ }).click();
    assert.equal(await page.getByLabel("Client share").count(), 0);
    await page.getByRole("button", { name: "Reveal value" }).click();
    await page.getByText(value, { exact: true }).waitFor();

    // Rotate-generate: a second version, shown in the versions list.
    await page.getByRole("button", { name: "Rotate", exact: true }).click();
    const rotate = page.getByRole("dialog", { name: "Rotate “db/primary/password”" });
    await rotate.getByLabel("Length").fill("24");
    await rotate.getByLabel("Characters").selectOption("alphanumeric");
    await rotate.getByRole("button", { name: "Rotate now" }).click();
    await rotate.waitFor({ state: "detached" });
    await page.getByRole("button", { name: "View version 2" }).waitFor();
    await page.getByRole("button", { name: "Reveal value" }).click();
    await page.locator(".secret-value").getByText(/^[A-Za-z0-9]{24}$/).waitFor();

    // Disable version 1.
    await page.getByRole("button", { name: "Disable version 1" }).click();
    const confirm = page.getByRole("dialog", { name: /Disable version 1 of/ });
    await confirm.getByRole("button", { name: "Disable version 1" }).click();
    await confirm.waitFor({ state: "detached" });
    await page.getByText("disabled", { exact: true }).waitFor();

    // A type the picker does not know (types are open; 1claw clients write them): shown as it is, and a new
    // version keeps it.
    const hsmVault = ((await api(server.url, server.adminKey).get("/v1/vaults")).body.vaults as Array<{ id: string; name: string }>).find((v) => v.name === "mpc-multi-hsm")!;
    const typed = await api(server.url, server.adminKey).put(`/v1/vaults/${hsmVault.id}/secrets/conn/db`, { value: "postgres://u@h/db", type: "database_url" });
    assert.equal(typed.status, 201, typed.text);

    // The prefix filter narrows the tree.
    await createSecret("api/token", "t-" + Math.random().toString(36).slice(2));
    await page.getByRole("button", { name: /^conn\/db, version 1/ }).click();
    await page.getByRole("heading", { level: 2, name: "conn/db" }).waitFor();
    await page.locator(".detail-title").getByText("database_url", { exact: true }).waitFor();
    await page.getByRole("button", { name: "New version", exact: true }).click();
    const newVersion = page.getByRole("dialog", { name: "New version of “conn/db”" });
    assert.equal(await newVersion.getByLabel("Type").inputValue(), "database_url", "the picker keeps the secret's own type");
    await newVersion.getByLabel("Value").fill("postgres://u@h/db2");
    await newVersion.getByRole("button", { name: "Save new version" }).click();
    await newVersion.waitFor({ state: "detached" });
    const versions = await api(server.url, server.adminKey).get(`/v1/vaults/${hsmVault.id}/secret-versions/conn/db`);
    assert.deepEqual(versions.body.versions.map((v: { type: string }) => v.type), ["database_url", "database_url"]);
    await page.getByLabel("Filter by prefix").fill("db/");
    await page.getByRole("button", { name: "Filter", exact: true }).click();
    await page.getByRole("button", { name: /^api\/token/ }).waitFor({ state: "detached" });
    await page.getByRole("button", { name: /^db\/primary\/password/ }).waitFor();
    await page.getByRole("button", { name: "Show all" }).click();
    await page.getByRole("button", { name: /^api\/token/ }).waitFor();
    // Delete: the confirmation names the path.
    await page.getByRole("button", { name: /^api\/token/ }).click();
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    const del = page.getByRole("dialog", { name: "Delete secret “api/token”?" });
    await del.getByRole("button", { name: "Delete “api/token”" }).click();
    await del.waitFor({ state: "detached" });
    await page.getByRole("button", { name: /^api\/token/ }).waitFor({ state: "detached" });
    await page.getByRole("button", { name: /^db\/primary\/password/ }).click();
    await axe("secrets");
    await shot("secrets");

    // The key lifecycle: rotate the KEKs, then refresh the shares, each asked first and followed to its end;
    // the secret still reads the same. No spare slot here, so no replacement is offered.
    const hsm = ((await api(server.url, server.adminKey).get("/v1/vaults")).body.vaults as Array<{ id: string; name: string }>).find((v) => v.name === "mpc-multi-hsm")!;
    const readSecret = () => api(server.url, server.adminKey).get(`/v1/vaults/${hsm.id}/secrets/db/primary/password`);
    const before = await readSecret();
    assert.equal(before.status, 200, before.text);
    await openTab("Settings");
    assert.equal(await card.getByRole("button", { name: "Replace a provider" }).isDisabled(), true);
    for (const [button, label] of [["Rotate KEKs", "KEK rotation"], ["Refresh shares", "Share refresh"]] as const) {
      await card.getByRole("button", { name: button }).click();
      const dialog = page.getByRole("dialog");
      if (button === "Rotate KEKs") await axe("mpc-rotate-confirm");
      await dialog.getByRole("button", { name: button }).click();
      await dialog.waitFor({ state: "detached" });
      await card.getByRole("status").getByText(`${label}: completed`, { exact: false }).waitFor();
    }
    await shot("mpc-lifecycle");
    const after = await readSecret();
    assert.equal(after.status, 200, after.text);
    assert.equal(after.body.value, before.body.value);
  });

  it("2-of-3 client custody on a vault holding a secret: enabling shows the re-protected secret's share once", async () => {
    await openVault("mpc-client-2of3");
    const value = "ssh-" + Math.random().toString(36).slice(2);
    await createSecret("ssh/deploy", value, { type: "ssh_key" });
    await openTab("Settings");
    const card = page.getByRole("region", { name: "MPC Secret Storage" });
    await card.getByLabel("Custody mode").selectOption({ label: "2-of-3 Client Custody" });
    await confirmEnable("mpc-client-2of3", "2-of-3 Client Custody");
    const shares = await takeShares();
    assert.equal(shares.length, 1);
    await page.getByRole("dialog").getByText("ssh/deploy, version 1").waitFor();
    await shot("enable-mpc-shares");
    await closeSharesModal(shares);
    await card.getByText("2of3_client_custody").waitFor();
    await card.getByText("You must store it securely", { exact: false }).waitFor();

    await openTab("Secrets");
    await page.getByRole("button", { name: /^ssh\/deploy, version 1/ }).click();
    await page.getByRole("button", { name: "Reveal value" }).click();
    await page.getByRole("alert").getByText("client share", { exact: false }).waitFor();
    await page.getByLabel("Client share").fill(shares[0]!);
    await page.getByRole("button", { name: "Reveal value" }).click();
    await page.getByText(value, { exact: true }).waitFor();
  });

  it("the CMEK card says how CMEK layers on the vault's protection, then shows the vault's key fingerprint", async () => {
    const cmekCard = () => page.getByRole("region", { name: "Client-managed key (CMEK)" });
    await openVault("mpc-multi-hsm");
    await openTab("Settings");
    await cmekCard().getByText("the server's envelope and MPC split apply on top.", { exact: false }).waitFor();
    await openVault("payments");
    await openTab("Settings");
    await cmekCard().getByText("the server's envelope applies on top.", { exact: false }).waitFor();

    const admin = api(server.url, server.adminKey);
    const vaultId = ((await admin.get("/v1/vaults")).body.vaults as Array<{ id: string; name: string }>).find((v) => v.name === "payments")!.id;
    const fingerprint = createHash("sha256").update(randomBytes(32)).digest("hex");
    assert.equal((await admin.post(`/v1/vaults/${vaultId}/cmek`, { fingerprint })).status, 200);
    await page.reload();
    await openTab("Settings");
    const card = cmekCard();
    await card.getByText(fingerprint, { exact: true }).waitFor();
    await card.getByText("Enabled", { exact: true }).waitFor();
    await axe("settings-cmek");
    await shot("settings-cmek");
  });

  it("agents: create (the ocv_ key shown once), deactivate, rotate the key", async () => {
    // Two vaults of one name: the picker tells them apart by the start of their ids.
    const admin = api(server.url, server.adminKey);
    const twins: string[] = [];
    for (let i = 0; i < 2; i++) twins.push((await admin.post("/v1/vaults", { name: "twin" })).body.id as string);
    await page.getByRole("link", { name: "Agents", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Agents" }).waitFor();
    await page.getByText("No agents yet").waitFor();
    for (const id of twins) await page.getByRole("checkbox", { name: `twin ${id.slice(0, 8)}`, exact: true }).waitFor();
    await axe("agents-empty");
    await shot("agents-empty");
    await page.getByLabel("Agent name").fill("ci-bot");
    await page.getByLabel(/^Description/).fill("Deploys from CI");
    await page.getByRole("checkbox", { name: "payments" }).check();
    await page.getByRole("button", { name: "Create agent" }).click();
    const dialog = page.getByRole("dialog", { name: "API key of agent “ci-bot”" });
    const key = (await dialog.locator(".once-value").textContent()) ?? "";
    assert.match(key, /^ocv_/);
    await dialog.getByText("cannot be recovered").waitFor();
    await shot("agent-key-modal");
    await dialog.getByRole("button", { name: /close/i }).click();
    await dialog.waitFor({ state: "detached" });
    assert.ok(!(await page.content()).includes(key));
    shownOnce.push(key);

    const item = page.getByRole("listitem").filter({ hasText: "ci-bot" });
    await item.getByText("active", { exact: true }).waitFor();
    await item.getByText("payments").waitFor();

    await page.getByRole("button", { name: "Deactivate agent ci-bot" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Deactivate" }).click();
    await item.getByText("inactive", { exact: true }).waitFor();

    await page.getByRole("button", { name: "Rotate key of agent ci-bot" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Rotate key" }).click();
    const rotated = page.getByRole("dialog", { name: "API key of agent “ci-bot”" });
    const newKey = (await rotated.locator(".once-value").textContent()) ?? "";
    assert.match(newKey, /^ocv_/);
    assert.notEqual(newKey, key);
    await rotated.getByRole("button", { name: /close/i }).click();
    shownOnce.push(newKey);
    await axe("agents");
    await shot("agents");
  });

  it("works at 375 px: axe and screenshots of the main pages", async () => {
    await page.setViewportSize(PHONE);
    await page.getByRole("link", { name: "Vaults", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Vaults" }).waitFor();
    await axe("vaults");
    await shot("vaults");
    await openVault("mpc-multi-hsm");
    await page.getByRole("button", { name: /^db\/primary\/password/ }).click();
    await axe("secrets");
    await shot("secrets");
    await openTab("Settings");
    await axe("settings-enabled");
    await shot("settings-enabled");
    await page.getByRole("link", { name: "Vaults", exact: true }).click();
    await page.getByLabel("Vault name").fill("fresh");
    await page.getByRole("button", { name: "Create vault" }).click();
    await openVault("fresh");
    await openTab("Settings");
    await axe("settings-before");
    await shot("settings-before");
    await page.getByRole("link", { name: "Agents", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Agents" }).waitFor();
    await axe("agents");
    await shot("agents");
    // Nothing wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the agents page is ${overflow} px wider than the screen`);
    await page.setViewportSize(DESKTOP);
  });

  it("asks for the key again when the token is refused or runs out, and returns to the same page", async () => {
    const signInAgain = async () => {
      await page.getByLabel("User API key").fill(server.adminKey);
      await page.getByRole("button", { name: "Sign in with API key" }).click();
      await page.getByRole("heading", { level: 1, name: "Agents" }).waitFor();
    };
    await page.getByRole("link", { name: "Agents", exact: true }).click();
    // A token the server refuses (its signature altered): the first 401 brings the sign-in back.
    await page.evaluate(() => {
      const session = JSON.parse(sessionStorage.getItem("shardvault.session")!) as { token: string; expiresAt: number };
      const flipped = session.token.slice(0, -6) + (session.token.endsWith("AAAAAA") ? "BBBBBB" : "AAAAAA");
      sessionStorage.setItem("shardvault.session", JSON.stringify({ ...session, token: flipped }));
    });
    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByText("Your session has expired", { exact: false }).waitFor();
    assert.equal(await storage(), JSON.stringify({ session: {}, local: {} }));
    await signInAgain();
    assert.equal(new URL(page.url()).pathname, "/agents");
    // A token about to run out: the page asks again when it does, without waiting for a refusal. The page runs
    // on Playwright's clock from the reload on, so the token runs out when the test moves time past it.
    await page.clock.install();
    await page.evaluate(() => {
      const session = JSON.parse(sessionStorage.getItem("shardvault.session")!) as { token: string; expiresAt: number };
      sessionStorage.setItem("shardvault.session", JSON.stringify({ ...session, expiresAt: Date.now() + 600_000 }));
    });
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Agents" }).waitFor();
    await page.clock.fastForward(599_000);
    assert.equal(await page.getByRole("heading", { name: "Sign in" }).count(), 0, "signed out before the token ran out");
    await page.clock.fastForward(2_000);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await signInAgain();
  });

  it("signs out: nothing of the session stays; the sign-in page at 375 px", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(await storage(), JSON.stringify({ session: {}, local: {} }));
    const html = await page.content();
    for (const secret of [server.adminKey, ...shownOnce]) assert.ok(!html.includes(secret));
    await page.setViewportSize(PHONE);
    await axe("sign-in");
    await shot("sign-in");
    await page.setViewportSize(DESKTOP);
    // A reload asks for the key again.
    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
  });

  it("every request went to the server's own origin; no key in a URL; no CSP violation or page error", () => {
    assert.ok(requests.length > 20, `only ${requests.length} requests seen`);
    const foreign = requests.filter((url) => {
      if (url.startsWith("data:")) return false;
      const parsed = new URL(url.startsWith("blob:") ? url.slice(5) : url);
      return parsed.origin !== origin;
    });
    assert.deepEqual(foreign, []);
    for (const url of requests) {
      assert.ok(!url.includes(server.adminKey), "the API key appeared in a URL");
      assert.ok(!/1ck_|ocv_/.test(url), `a key-like string in a URL: ${url}`);
    }
    // Expected console errors are the failed requests the test provoked (401 sign-in, 400 wrong share).
    const unexpected = pageErrors.filter((text) => !/Failed to load resource: the server responded with a status of (400|401)/.test(text));
    assert.deepEqual(unexpected, []);
  });
});
