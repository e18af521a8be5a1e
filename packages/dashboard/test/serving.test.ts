/**
 * How the server serves the dashboard (packages/server/src/http/dashboard.ts), on a bare Fastify app with the
 * server's own 404 handler: content types and security headers, browser routes falling back to index.html,
 * the API's paths keeping their JSON 404, nothing outside the built folder, and the answer when the
 * dashboard is not built. No browser needed.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { DASHBOARD_CSP, DASHBOARD_DIST, registerDashboard } from "../../server/src/http/dashboard.js";
import { notFoundHandler } from "../../server/src/http/problem.js";
import { makeTempDir } from "../../server/test/support/harness.js";

function fakeBuild(): string {
  const root = makeTempDir("shardvault-dashboard-dist-");
  mkdirSync(join(root, "assets"));
  writeFileSync(join(root, "index.html"), '<!doctype html><html lang="en"><head><script type="module" src="/assets/app-1.js"></script></head><body></body></html>');
  writeFileSync(join(root, "assets", "app-1.js"), "console.log(1)");
  writeFileSync(join(root, "assets", "app-1.css"), "body{}");
  writeFileSync(join(root, "favicon.svg"), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(root, ".hidden"), "secret");
  // Beside the built folder: must never be reachable.
  writeFileSync(join(root, "..", `${root.split("/").pop()}-outside.txt`), "outside");
  return root;
}

async function appFor(root: string): Promise<FastifyInstance> {
  const app = Fastify({ exposeHeadRoutes: false });
  app.setNotFoundHandler(notFoundHandler);
  // An API route, as the server has them.
  app.get("/v1/health", async () => ({ status: "healthy" }));
  registerDashboard(app, root);
  await app.ready();
  return app;
}

describe("serving the dashboard", () => {
  const apps: FastifyInstance[] = [];
  after(async () => {
    for (const app of apps) await app.close();
  });

  it("resolves the built folder to packages/dashboard/dist", () => {
    const expected = fileURLToPath(new URL("../dist/", import.meta.url));
    assert.equal(DASHBOARD_DIST, expected);
  });

  it("serves index.html and assets with their content types and the security headers", async () => {
    const app = await appFor(fakeBuild());
    apps.push(app);
    const cases: Array<[string, RegExp, RegExp]> = [
      ["/", /^text\/html/, /no-cache/],
      ["/index.html", /^text\/html/, /no-cache/],
      ["/assets/app-1.js", /^(text|application)\/javascript/, /immutable/],
      ["/assets/app-1.css", /^text\/css/, /immutable/],
      ["/favicon.svg", /^image\/svg\+xml/, /no-cache/],
    ];
    for (const [url, type, cache] of cases) {
      const res = await app.inject({ method: "GET", url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers["content-type"]), type, url);
      assert.match(String(res.headers["cache-control"]), cache, url);
      assert.equal(res.headers["content-security-policy"], DASHBOARD_CSP, url);
      assert.equal(res.headers["x-content-type-options"], "nosniff", url);
      assert.equal(res.headers["referrer-policy"], "no-referrer", url);
    }
    assert.ok(!/unsafe-inline|unsafe-eval|\*/.test(DASHBOARD_CSP));
    const head = await app.inject({ method: "HEAD", url: "/" });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, "");
  });

  it("answers index.html for browser routes, and the JSON 404 problem for the API's paths and other clients", async () => {
    const app = await appFor(fakeBuild());
    apps.push(app);
    const html = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };
    for (const url of ["/vaults", "/vaults/0b6c/settings", "/agents?x=1"]) {
      const res = await app.inject({ method: "GET", url, headers: html });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers["content-type"]), /^text\/html/, url);
      assert.match(res.body, /^<!doctype html>/, url);
    }
    const problems: Array<[string, Record<string, string>]> = [
      ["/v1/no-such-route", html],
      ["/v1", html],
      ["/.well-known/nothing", html],
      ["/vaults", { accept: "application/json" }],
      ["/vaults", {}],
      ["/assets/missing.js", html],
      ["/.hidden", html],
    ];
    for (const [url, headers] of problems) {
      const res = await app.inject({ method: "GET", url, headers });
      assert.equal(res.statusCode, 404, url);
      assert.match(String(res.headers["content-type"]), /^application\/problem\+json/, url);
      assert.equal(res.json().code, "not_found", url);
    }
    assert.deepEqual((await app.inject({ method: "GET", url: "/v1/health" })).json(), { status: "healthy" });
    // Other methods are not the dashboard's.
    assert.equal((await app.inject({ method: "POST", url: "/vaults", headers: html })).statusCode, 404);
  });

  it("never serves a file outside the built folder", async () => {
    const root = fakeBuild();
    const app = await appFor(root);
    apps.push(app);
    const outside = `${root.split("/").pop()}-outside.txt`;
    for (const url of [`/../${outside}`, `/%2e%2e/${outside}`, `/assets/..%2f..%2f${outside}`, `/..%5c${outside}`]) {
      const res = await app.inject({ method: "GET", url });
      assert.ok(!res.body.includes("outside"), `${url} answered ${res.statusCode} ${res.body.slice(0, 80)}`);
    }
  });

  it("without a built dashboard, the server starts and / says so", async () => {
    const app = await appFor(join(makeTempDir("shardvault-no-dist-"), "dist"));
    apps.push(app);
    const res = await app.inject({ method: "GET", url: "/", headers: { accept: "text/html" } });
    assert.equal(res.statusCode, 404);
    assert.match(String(res.headers["content-type"]), /^application\/problem\+json/);
    assert.equal(res.json().code, "dashboard_not_built");
    assert.match(res.json().detail, /not built/);
    assert.equal((await app.inject({ method: "GET", url: "/v1/nope" })).json().code, "not_found");
  });
});
