/**
 * Pieces of the dashboard's browser tests: whether they can run (Debian's chromium, a built dashboard; with
 * CI=true a missing one fails instead of skipping), launching headless Chromium, axe-core on a page (no serious
 * or critical violation) and full-page screenshots under artifacts/screenshots/.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { REPO_ROOT } from "../../server/test/support/harness.js";

export const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOTS = join(REPO_ROOT, "artifacts", "screenshots");
export const DIST_INDEX = join(REPO_ROOT, "packages", "dashboard", "dist", "index.html");
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 375, height: 812 };

export function browserSkipReason(suite: string): string | false {
  const missing: string[] = [];
  if (!existsSync(CHROMIUM)) missing.push(`${CHROMIUM} is missing: apt-get install chromium`);
  if (!existsSync(DIST_INDEX)) missing.push("the dashboard is not built: npm run build -w @shardvault/dashboard");
  if (missing.length === 0) return false;
  const message = `${suite} skipped: ${missing.join("; ")}`;
  if (process.env.CI === "true") throw new Error(`${message} (CI=true: failing instead of skipping)`);
  return message;
}

/** Headless Chromium with a profile of its own in `userDataDir`, pages resolving paths against `baseURL`. */
export function launchBrowser(userDataDir: string, baseURL: string): Promise<BrowserContext> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-gpu"],
    viewport: DESKTOP,
    baseURL,
  });
}

/** A full-page screenshot, named by what it shows and the viewport's width. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const width = page.viewportSize()?.width ?? 0;
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
}

/** axe-core on the page as it is: no serious or critical violation. Answers a one-line summary. */
export async function axeCheck(page: Page, name: string): Promise<string> {
  const results = await new AxeBuilder({ page }).analyze();
  const width = page.viewportSize()?.width ?? 0;
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const minor = results.violations.filter((v) => !bad.includes(v));
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(" | ")}`),
    [],
    `axe on ${name} at ${width} px`,
  );
  return `${name} @${width}px: ${bad.length} serious/critical, ${minor.length} other${minor.length ? ` (${minor.map((v) => `${v.id}: ${v.impact}`).join(", ")})` : ""}; ${results.passes.length} rules passed`;
}
