/**
 * Access control in the dashboard, end to end (issue 13): headless Debian Chromium against a real server, with
 * two tabs: the owner's (signed in by API key) and a member's (signed in by email and password).
 *
 * The owner adds an agent policy, watching the pattern preview list the vault's existing paths as the server's
 * own matcher decides them (`*` one segment, `**` any depth, a malformed pattern flagged), edits and deletes it,
 * and the agent's reads follow each change. The owner invites a member (token and link shown once); the member
 * accepts with a password (the link's token never reaches a server or the address bar), signs in by email, sees
 * only the paths a policy opens; a role change shows on the member's next page; the last owner can be neither
 * demoted nor removed (the API's detail in place); a removed member's session ends on the next request. axe-core
 * runs on each new page at 1280 px and 375 px; screenshots go to artifacts/screenshots/access-*.png.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { api, type Api, type ServerHandle } from "../../server/test/support/harness.js";
import { DESKTOP, PHONE, skipReason, startBrowserRun, type BrowserRun } from "./support/browser.js";

const SECRETS: Record<string, string> = {
  "app/stripe": "sk_live_" + Math.random().toString(36).slice(2),
  "app/sendgrid": "SG." + Math.random().toString(36).slice(2),
  "db/password": "pg-" + Math.random().toString(36).slice(2),
  "db/replica/password": "pg-replica-" + Math.random().toString(36).slice(2),
};
const MEMBER_EMAIL = "dana@example.com";
const MEMBER_PASSWORD = "correct horse battery staple";

describe("dashboard access control end to end (headless Chromium)", { skip: skipReason(), timeout: 300_000 }, () => {
  let run: BrowserRun;
  let server: ServerHandle;
  let admin: Api;
  /** The owner's tab, and the member's. */
  let owner: Page;
  let member: Page;
  let vaultId: string;
  let agent: { id: string; apiKey: string };
  let inviteToken: string;

  before(async () => {
    run = await startBrowserRun("access");
    ({ server, page: owner } = run);
    admin = api(server.url, server.adminKey);
    vaultId = (await admin.post("/v1/vaults", { name: "payments" })).body.id as string;
    for (const [path, value] of Object.entries(SECRETS)) assert.equal((await admin.put(`/v1/vaults/${vaultId}/secrets/${path}`, { value })).status, 201);
    const created = await admin.post("/v1/agents", { name: "deployer" });
    agent = { id: created.body.agent.id as string, apiKey: created.body.api_key as string };
  });

  after(async () => {
    await run?.close();
  });

  const policies = async () => (await admin.get(`/v1/vaults/${vaultId}/policies`)).body.policies as Array<Record<string, unknown>>;

  /** What the agent gets reading `path` with a fresh token. */
  const agentReads = async (path: string) => {
    const token = await api(server.url).post("/v1/auth/agent-token", { api_key: agent.apiKey });
    assert.equal(token.status, 200, token.text);
    return (await api(server.url, token.body.access_token as string).get(`/v1/vaults/${vaultId}/secrets/${path}`)).status;
  };

  const openAccessTab = async (page: Page) => {
    await page.getByRole("link", { name: "Vaults", exact: true }).click();
    await page.getByRole("link", { name: "payments", exact: true }).click();
    await page.getByRole("tab", { name: "Access" }).click();
    await page.getByRole("tab", { name: "Access", selected: true }).waitFor();
  };

  /** The paths the open policy form's preview lists. */
  const previewed = async (page: Page) => {
    const list = page.getByRole("dialog").getByRole("list", { name: "Existing secrets the pattern matches" });
    if ((await list.count()) === 0) return [];
    return list.getByRole("listitem").allTextContents();
  };

  it("the sign-in page offers email and password beside the API key", async () => {
    await owner.goto("/");
    await owner.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
    await owner.getByLabel("Email").waitFor();
    await owner.getByLabel("Password").waitFor();
    await owner.getByLabel("User API key").waitFor();
    await run.axe(owner, "sign-in");
    await run.shot(owner, "sign-in");
    await owner.getByLabel("User API key").fill(server.adminKey);
    await owner.getByRole("button", { name: "Sign in with API key" }).click();
    await owner.getByRole("heading", { level: 1, name: "Vaults" }).waitFor();
    await owner.locator(".whoami").getByText("owner", { exact: true }).waitFor();
  });

  it("adds an agent policy, the preview matching existing paths as the server does", async () => {
    await openAccessTab(owner);
    await owner.getByText("No policies yet").waitFor();
    await run.axe(owner, "tab-empty");
    await run.shot(owner, "tab-empty");

    await owner.getByRole("button", { name: "Add policy" }).click();
    const dialog = owner.getByRole("dialog", { name: "Add a policy" });
    await dialog.getByLabel("Principal").selectOption({ label: "deployer" });
    const pattern = dialog.getByLabel("Path pattern");
    const expectPreview = async (text: string, paths: string[]) => {
      await dialog.getByText(text, { exact: false }).waitFor();
      assert.deepEqual(await previewed(owner), paths, `preview of ${await pattern.inputValue()}`);
    };
    // The default covers the whole vault.
    await expectPreview("Matches 4 of 4 existing secrets", ["app/sendgrid", "app/stripe", "db/password", "db/replica/password"]);
    await pattern.fill("db/**");
    await expectPreview("Matches 2 of 4", ["db/password", "db/replica/password"]);
    await pattern.fill("*/password");
    await expectPreview("Matches 1 of 4", ["db/password"]);
    await pattern.fill("*");
    await expectPreview("Matches 0 of 4", []);
    // A `*` inside a segment is refused by the server; the preview says so, and so does the form.
    await pattern.fill("app/stripe-*");
    await expectPreview("This pattern would be refused", []);
    await dialog.getByRole("button", { name: "Add policy" }).click();
    await dialog.getByRole("alert").getByText("whole-segment wildcard", { exact: false }).waitFor();
    await run.shot(owner, "policy-pattern-refused");
    assert.equal((await policies()).length, 0, "a malformed pattern is not sent");

    await pattern.fill("app/*");
    await expectPreview("Matches 2 of 4", ["app/sendgrid", "app/stripe"]);
    assert.equal(await dialog.getByRole("alert").count(), 0, "the pattern's error goes when the pattern changes");
    assert.ok(await dialog.getByRole("checkbox", { name: /^read/ }).isChecked(), "read is the default permission");
    await dialog.getByRole("checkbox", { name: /^write/ }).check();
    await dialog.getByLabel("Priority").fill("5");
    await dialog.getByLabel(/^Expires/).fill("2031-01-02T03:04");
    await dialog.getByLabel("IP allowlist").fill("127.0.0.1/32\n::1");
    await dialog.getByLabel("Not after").fill("2032-05-06T07:08");
    await run.axe(owner, "policy-add");
    await run.shot(owner, "policy-add");
    await dialog.getByRole("button", { name: "Add policy" }).click();
    await dialog.waitFor({ state: "detached" });

    const item = owner.getByRole("list", { name: "Policies, in the order they decide" }).getByRole("listitem");
    await item.getByText("deployer", { exact: true }).waitFor();
    await item.getByText("2 existing secrets").waitFor();
    const [stored] = await policies();
    assert.ok(stored);
    assert.equal(stored.secret_path_pattern, "app/*");
    assert.equal(stored.principal_type, "agent");
    assert.equal(stored.principal_id, agent.id);
    assert.deepEqual(stored.permissions, ["read", "write"]);
    assert.equal(stored.effect, "allow");
    assert.equal(stored.priority, 5);
    // The browser and this process share the machine's time zone: the form's local times, as RFC 3339.
    assert.equal(stored.expires_at, new Date("2031-01-02T03:04").toISOString());
    assert.deepEqual(stored.conditions, { ip_allowlist: ["127.0.0.1/32", "::1"], not_after: new Date("2032-05-06T07:08").toISOString() });
    // The golden path: the agent reads what the policy opens, and nothing else.
    assert.equal(await agentReads("app/stripe"), 200);
    assert.equal(await agentReads("db/password"), 403);
    await run.axe(owner, "tab");
    await run.shot(owner, "tab");
  });

  it("edits the policy: principal and pattern stay, the rest changes, untouched times keep their seconds", async () => {
    // A time with seconds, as another client may set it; the form shows minutes.
    const notAfter = new Date(2032, 4, 6, 7, 8, 9, 250).toISOString();
    const [policy] = await policies();
    const put = await admin.put(`/v1/vaults/${vaultId}/policies/${policy!.id as string}`, { conditions: { ip_allowlist: ["127.0.0.1/32", "::1"], not_after: notAfter } });
    assert.equal(put.status, 200, put.text);
    await owner.reload();
    await owner.getByRole("button", { name: "Edit policy for deployer on app/*" }).click();
    const dialog = owner.getByRole("dialog", { name: "Edit policy" });
    await dialog.getByText("deployer", { exact: true }).waitFor();
    await dialog.getByText("app/*", { exact: true }).waitFor();
    assert.equal(await dialog.getByLabel("Path pattern").count(), 0, "the pattern is not editable");
    assert.deepEqual(await previewed(owner), ["app/sendgrid", "app/stripe"]);
    await dialog.getByRole("checkbox", { name: /^write/ }).uncheck();
    await dialog.getByRole("checkbox", { name: /^rotate/ }).check();
    await dialog.getByRole("radio", { name: "deny" }).check();
    await dialog.getByLabel("Priority").fill("7");
    await dialog.getByLabel(/^Expires/).fill("");
    await run.shot(owner, "policy-edit");
    await dialog.getByRole("button", { name: "Save policy" }).click();
    await dialog.waitFor({ state: "detached" });
    await owner.getByRole("listitem").getByText("deny", { exact: true }).waitFor();

    const [stored] = await policies();
    assert.ok(stored);
    assert.deepEqual(stored.permissions, ["read", "rotate"]);
    assert.equal(stored.effect, "deny");
    assert.equal(stored.priority, 7);
    assert.equal(stored.expires_at, null, "an emptied expiry is cleared");
    assert.deepEqual(stored.conditions, { ip_allowlist: ["127.0.0.1/32", "::1"], not_after: notAfter }, "the untouched condition is kept to the millisecond");
    assert.equal(await agentReads("app/stripe"), 404, "a deny and no allow: the vault is out of the agent's sight");
  });

  it("deletes the policy; the confirmation names the principal and pattern", async () => {
    await owner.getByRole("button", { name: "Delete policy for deployer on app/*" }).click();
    const dialog = owner.getByRole("dialog", { name: "Delete the policy for deployer?" });
    await dialog.getByText("app/*", { exact: true }).waitFor();
    await dialog.getByRole("button", { name: "Delete policy" }).click();
    await dialog.waitFor({ state: "detached" });
    await owner.getByText("No policies yet").waitFor();
    assert.deepEqual(await policies(), []);
  });

  it("invites a member: the token and its link are shown once, with the warning", async () => {
    await owner.getByRole("link", { name: "Members", exact: true }).click();
    await owner.getByRole("heading", { level: 1, name: "Members" }).waitFor();
    await owner.getByRole("listitem").filter({ hasText: "admin" }).getByText("you", { exact: true }).waitFor();
    await owner.getByLabel("Email").fill(MEMBER_EMAIL);
    await owner.getByLabel("Role", { exact: true }).selectOption("member");
    await owner.getByRole("button", { name: "Create invitation" }).click();
    const dialog = owner.getByRole("dialog", { name: `Invitation for ${MEMBER_EMAIL}` });
    await dialog.getByText("Shown only once — it cannot be recovered.").waitFor();
    const [link, token] = await dialog.locator(".once-value").allTextContents();
    assert.match(token ?? "", /^svi_/);
    inviteToken = token!;
    assert.equal(link, `${run.origin}/accept-invite#token=${encodeURIComponent(inviteToken)}`);
    await run.axe(owner, "invite-modal");
    await run.shot(owner, "invite-modal");
    await dialog.getByRole("button", { name: /close/i }).click();
    await dialog.waitFor({ state: "detached" });
    assert.ok(!(await owner.content()).includes(inviteToken), "the token stays in the page after its modal closed");
    await owner.getByRole("listitem").filter({ hasText: "admin" }).waitFor();
    await run.axe(owner, "members");
    await run.shot(owner, "members");
  });

  it("the member accepts from the link: the token leaves the address bar; a short password is refused", async () => {
    member = await run.newPage();
    await member.goto(`/accept-invite#token=${encodeURIComponent(inviteToken)}`);
    await member.getByRole("heading", { name: "Accept your invitation" }).waitFor();
    assert.equal(new URL(member.url()).hash, "", "the token is dropped from the address");
    assert.equal(await member.getByLabel("Invite token").inputValue(), inviteToken);
    await run.axe(member, "accept-invite");
    await member.getByLabel(/^Display name/).fill("Dana");
    await member.getByLabel("Password", { exact: true }).fill("too-short");
    await member.getByLabel("Password again").fill("too-short");
    await member.getByRole("button", { name: "Accept and sign in" }).click();
    await member.getByRole("alert").getByText("at least 12 characters", { exact: false }).waitFor();
    await run.shot(member, "accept-invite-short");
    await member.getByLabel("Password", { exact: true }).fill(MEMBER_PASSWORD);
    await member.getByLabel("Password again").fill(MEMBER_PASSWORD);
    await member.getByRole("button", { name: "Accept and sign in" }).click();
    await member.getByRole("heading", { level: 1, name: "Vaults" }).waitFor();
    await member.locator(".whoami").getByText("Dana", { exact: true }).waitFor();
    await member.getByText("No vaults yet").waitFor();
    assert.equal(await member.getByRole("link", { name: "Agents", exact: true }).count(), 0, "a member is not offered agents");
    const stored = await run.storage(member);
    assert.ok(!stored.includes(MEMBER_PASSWORD) && !stored.includes(inviteToken));
    // The token works once.
    const again = await api(server.url).post("/v1/auth/accept-invite", { invite_token: inviteToken, password: MEMBER_PASSWORD });
    assert.equal(again.status, 400);
  });

  it("the member signs in by email: a wrong password shows the API's detail", async () => {
    await member.getByRole("button", { name: "Sign out" }).click();
    const expected = await api(server.url).post("/v1/auth/token", { email: MEMBER_EMAIL, password: "not the password" });
    assert.equal(expected.status, 401);
    await member.getByLabel("Email").fill(MEMBER_EMAIL);
    await member.getByLabel("Password").fill("not the password");
    await member.getByRole("button", { name: "Sign in", exact: true }).click();
    await member.getByRole("alert").getByText(expected.body.detail as string).waitFor();
    assert.equal(await member.getByLabel("Password").inputValue(), "", "the password field is cleared");
    await run.shot(member, "sign-in-error");
    await member.getByLabel("Password").fill(MEMBER_PASSWORD);
    await member.getByRole("button", { name: "Sign in", exact: true }).click();
    await member.getByRole("heading", { level: 1, name: "Vaults" }).waitFor();
    await member.locator(".whoami").getByText("member", { exact: true }).waitFor();
  });

  it("the member sees only what a policy opens", async () => {
    await openAccessTab(owner);
    await owner.getByRole("button", { name: "Add policy" }).click();
    const dialog = owner.getByRole("dialog", { name: "Add a policy" });
    await dialog.getByLabel("Principal").selectOption({ label: `Dana <${MEMBER_EMAIL}>` });
    await dialog.getByLabel("Path pattern").fill("app/**");
    await dialog.getByRole("button", { name: "Add policy" }).click();
    await dialog.waitFor({ state: "detached" });

    await member.reload();
    await member.getByRole("link", { name: "payments", exact: true }).click();
    await member.getByRole("button", { name: /^app\/stripe, version 1/ }).click();
    await member.getByRole("button", { name: /^app\/sendgrid, version 1/ }).waitFor();
    assert.equal(await member.getByRole("button", { name: /^db\// }).count(), 0, "paths outside the policy are not listed");
    assert.equal(await member.getByRole("tab", { name: "Access" }).count(), 0, "a member who does not manage the vault has no Access tab");
    await member.getByRole("button", { name: "Reveal value" }).click();
    await member.getByText(SECRETS["app/stripe"]!, { exact: true }).waitFor();
    await run.axe(member, "member-secrets");
    await run.shot(member, "member-secrets");

    await member.getByRole("link", { name: "Members", exact: true }).click();
    await member.getByText("Only owners and admins invite, change roles and remove members.").waitFor();
    assert.equal(await member.getByRole("button", { name: "Create invitation" }).count(), 0);
    assert.equal(await member.getByRole("button", { name: /^Remove / }).count(), 0);
    await run.axe(member, "members-as-member");
    await run.shot(member, "members-as-member");
  });

  it("a role change counts from the member's next page", async () => {
    await owner.getByRole("link", { name: "Members", exact: true }).click();
    await owner.getByRole("button", { name: "Change role of Dana" }).click();
    const dialog = owner.getByRole("dialog", { name: "Role of Dana" });
    await dialog.getByRole("radio", { name: /^admin/ }).check();
    await dialog.getByRole("button", { name: "Save role" }).click();
    await dialog.waitFor({ state: "detached" });
    await owner.getByRole("listitem").filter({ hasText: "Dana" }).getByText("admin", { exact: true }).waitFor();
    const members = (await admin.get("/v1/org/members")).body.members as Array<{ email: string; role: string }>;
    assert.equal(members.find((m) => m.email === MEMBER_EMAIL)?.role, "admin");

    // The member's next page asks again who they are: an admin now manages agents and every vault.
    await member.getByRole("link", { name: "Vaults", exact: true }).click();
    await member.getByRole("link", { name: "Agents", exact: true }).waitFor();
    await member.getByRole("link", { name: "payments", exact: true }).click();
    await member.getByRole("button", { name: /^db\/password, version 1/ }).waitFor();
    await member.getByRole("tab", { name: "Access" }).waitFor();
  });

  it("the last owner can be neither demoted nor removed: the API's detail, in place", async () => {
    const refused = await admin.call("PATCH", `/v1/org/members/${(await admin.get("/v1/auth/me")).body.id as string}`, { role: "member" });
    assert.equal(refused.status, 409);
    await owner.getByRole("button", { name: "Change role of admin" }).click();
    const dialog = owner.getByRole("dialog", { name: "Role of admin" });
    await dialog.getByRole("radio", { name: /^member/ }).check();
    await dialog.getByRole("button", { name: "Save role" }).click();
    await dialog.getByRole("alert").getByText(refused.body.detail as string).waitFor();
    await run.axe(owner, "last-owner");
    await run.shot(owner, "last-owner");
    await dialog.getByRole("button", { name: "Cancel" }).click();

    await owner.getByRole("button", { name: "Remove admin" }).click();
    const remove = owner.getByRole("dialog", { name: "Remove admin?" });
    await remove.getByText("That includes this session.", { exact: false }).waitFor();
    await remove.getByRole("button", { name: "Remove admin" }).click();
    await remove.getByRole("alert").getByText(refused.body.detail as string).waitFor();
    await remove.getByRole("button", { name: "Cancel" }).click();
    await owner.getByRole("listitem").filter({ hasText: "admin" }).getByText("owner", { exact: true }).waitFor();
  });

  it("removes the member: their session ends on their next request, and they can no longer sign in", async () => {
    await owner.getByRole("button", { name: "Remove Dana" }).click();
    const dialog = owner.getByRole("dialog", { name: "Remove Dana?" });
    await dialog.getByRole("button", { name: "Remove Dana" }).click();
    await dialog.waitFor({ state: "detached" });
    await owner.getByRole("button", { name: "Remove Dana" }).waitFor({ state: "detached" });
    const members = (await admin.get("/v1/org/members")).body.members as Array<{ email: string }>;
    assert.ok(!members.some((m) => m.email === MEMBER_EMAIL));

    await member.getByRole("link", { name: "Members", exact: true }).click();
    await member.getByText("Your session has expired", { exact: false }).waitFor();
    await member.getByLabel("Email").fill(MEMBER_EMAIL);
    await member.getByLabel("Password").fill(MEMBER_PASSWORD);
    await member.getByRole("button", { name: "Sign in", exact: true }).click();
    await member.getByRole("alert").getByText("invalid email or password", { exact: false }).waitFor();
    await member.close();
  });

  it("works at 375 px: axe and screenshots of the new pages, nothing wider than the screen", async () => {
    assert.equal((await admin.post(`/v1/vaults/${vaultId}/policies`, { secret_path_pattern: "db/**", principal_id: agent.id, permissions: ["read"], priority: 2 })).status, 201);
    await owner.setViewportSize(PHONE);
    const noOverflow = async (name: string) => {
      const overflow = await owner.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the ${name} page is ${overflow} px wider than the screen`);
    };
    await openAccessTab(owner);
    await owner.getByRole("listitem").getByText("deployer", { exact: true }).waitFor();
    await run.axe(owner, "tab");
    await run.shot(owner, "tab");
    await noOverflow("access");
    await owner.getByRole("button", { name: "Add policy" }).click();
    await owner.getByRole("dialog", { name: "Add a policy" }).getByLabel("Path pattern").fill("app/*");
    await run.axe(owner, "policy-add");
    await run.shot(owner, "policy-add");
    await owner.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    await owner.getByRole("link", { name: "Members", exact: true }).click();
    await owner.getByRole("heading", { level: 1, name: "Members" }).waitFor();
    await run.axe(owner, "members");
    await run.shot(owner, "members");
    await noOverflow("members");
    await owner.setViewportSize(DESKTOP);
  });

  it("every request went to the server's own origin; no token, key or password in a URL; no unexpected console error", () => {
    const foreign = run.requests.filter((url) => !url.startsWith("data:") && new URL(url.startsWith("blob:") ? url.slice(5) : url).origin !== run.origin);
    assert.deepEqual(foreign, []);
    // The invite link's page was requested without its fragment: the token went only in the accept request's body.
    assert.ok(run.requests.includes(`${run.origin}/accept-invite`));
    for (const url of run.requests) {
      for (const secret of [inviteToken, server.adminKey, agent.apiKey, encodeURIComponent(MEMBER_PASSWORD)]) assert.ok(!url.includes(secret), `a secret in ${url}`);
    }
    // The failed requests the test provoked: wrong password and a removed member's session (401), the last owner (409).
    const unexpected = run.pageErrors.filter((text) => !/Failed to load resource: the server responded with a status of (401|409)/.test(text));
    assert.deepEqual(unexpected, []);
  });
});
