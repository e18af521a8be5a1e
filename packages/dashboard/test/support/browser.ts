/**
 * What the dashboard's browser tests share: a real server (the server suite's harness: the built server, PGlite,
 * the development key providers) serving the built dashboard, headless Debian Chromium driven by playwright-core,
 * every request the pages make and every console error they raise, axe-core and screenshots.
 *
 *   const run = await startBrowserRun("access");   // screenshots access-<name>-<width>.png
 *   const page = run.page;                          // more tabs: await run.newPage() (each its own sessionStorage)
 *   await run.axe(page, "members"); await run.shot(page, "members");
 *   await run.close();
 *
 * Needs Debian's `chromium` (/usr/bin/chromium): without it a suite skips (`skipReason`), naming the package,
 * except with CI=true, where it fails.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { makeTempDir, REPO_ROOT, startServer, type ServerHandle } from "../../../server/test/support/harness.js";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(REPO_ROOT, "artifacts");
const SCREENSHOTS = join(ARTIFACTS, "screenshots");
const DIST_INDEX = join(REPO_ROOT, "packages", "dashboard", "dist", "index.html");

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 375, height: 812 };

export function skipReason(): string | false {
  const missing: string[] = [];
  if (!existsSync(CHROMIUM)) missing.push(`${CHROMIUM} is missing: apt-get install chromium`);
  if (!existsSync(DIST_INDEX)) missing.push("the dashboard is not built: npm run build -w @shardvault/dashboard");
  if (missing.length === 0) return false;
  const message = `dashboard e2e skipped: ${missing.join("; ")}`;
  if (process.env.CI === "true") throw new Error(`${message} (CI=true: failing instead of skipping)`);
  return message;
}

/** The newest modification time among the files the bundle is built from (the dashboard, the SDK, the API types, the client crypto). */
function newestSourceMs(): number {
  const newest = (path: string): number => {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.mtimeMs;
    return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
  };
  const dashboard = join(REPO_ROOT, "packages", "dashboard");
  return Math.max(
    ...[join(dashboard, "src"), join(dashboard, "public"), join(dashboard, "index.html"), join(dashboard, "vite.config.ts")]
      .concat(["sdk", "api", "crypto"].map((pkg) => join(REPO_ROOT, "packages", pkg, "src")))
      .filter((path) => existsSync(path))
      .map(newest),
  );
}

export interface BrowserRun {
  server: ServerHandle;
  /** The server's origin: every request of the pages must go there. */
  origin: string;
  context: BrowserContext;
  /** The first tab. */
  page: Page;
  /** Another tab of the same browser; sessionStorage is per tab, so it holds its own session. */
  newPage(): Promise<Page>;
  /** Every URL any tab requested, in order. */
  requests: string[];
  /** Console errors and uncaught exceptions of every tab. */
  pageErrors: string[];
  /** axe-core on the page as it is: no serious or critical violation. */
  axe(page: Page, name: string): Promise<void>;
  /** A full-page screenshot, `artifacts/screenshots/[label-]name-width.png`. */
  shot(page: Page, name: string): Promise<void>;
  /** The tab's sessionStorage and localStorage, as JSON. */
  storage(page: Page): Promise<string>;
  close(): Promise<void>;
}

/** Starts the server and the browser; `label` keeps this suite's screenshots and axe summary apart from others'. */
export async function startBrowserRun(label?: string): Promise<BrowserRun> {
  // `npm test` builds the dashboard before a dashboard test runs (scripts/run-tests.mjs): never test an old bundle.
  assert.ok(
    statSync(DIST_INDEX).mtimeMs >= newestSourceMs(),
    "packages/dashboard/dist is older than its sources: run the tests with `npm test` (or `npm run build -w @shardvault/dashboard` first)",
  );
  mkdirSync(SCREENSHOTS, { recursive: true });
  const server = await startServer({ database: "pglite" });
  const userDataDir = makeTempDir("shardvault-chromium-");
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-gpu"],
    viewport: DESKTOP,
    baseURL: server.url,
  });
  const requests: string[] = [];
  const pageErrors: string[] = [];
  const axeReports: string[] = [];
  context.on("request", (request) => requests.push(request.url()));
  const watch = (page: Page) => {
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    page.on("pageerror", (error) => pageErrors.push(`pageerror: ${error.message}`));
    return page;
  };
  const prefix = label ? `${label}-` : "";

  return {
    server,
    origin: new URL(server.url).origin,
    context,
    page: watch(context.pages()[0] ?? (await context.newPage())),
    newPage: async () => watch(await context.newPage()),
    requests,
    pageErrors,
    async axe(page, name) {
      const results = await new AxeBuilder({ page }).analyze();
      const width = page.viewportSize()?.width ?? 0;
      const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      const minor = results.violations.filter((v) => !bad.includes(v));
      axeReports.push(
        `${name} @${width}px: ${bad.length} serious/critical, ${minor.length} other${minor.length ? ` (${minor.map((v) => `${v.id}: ${v.impact}`).join(", ")})` : ""}; ${results.passes.length} rules passed`,
      );
      assert.deepEqual(
        bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(" | ")}`),
        [],
        `axe on ${name} at ${width} px`,
      );
    },
    async shot(page, name) {
      const width = page.viewportSize()?.width ?? 0;
      await page.screenshot({ path: join(SCREENSHOTS, `${prefix}${name}-${width}.png`), fullPage: true });
    },
    storage: (page) => page.evaluate(() => JSON.stringify({ session: { ...sessionStorage }, local: { ...localStorage } })),
    async close() {
      await context.close();
      await server.stop();
      rmSync(userDataDir, { recursive: true, force: true });
      if (axeReports.length > 0) writeFileSync(join(ARTIFACTS, `axe-summary${label ? `-${label}` : ""}.txt`), axeReports.join("\n") + "\n");
    },
  };
}
