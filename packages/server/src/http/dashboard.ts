/**
 * The web dashboard: the static files `packages/dashboard` builds into its `dist/` (during `npm ci`, by the
 * root `prepare` script), served at `/` by the server itself, so the page and the API share one origin.
 *
 * - Only files that exist in `dist/` when the server starts are served (the set is read once, so no request
 *   path can reach outside it); `GET` of any other non-API path that accepts `text/html` and does not name a
 *   file (no `.` in its last segment) answers `index.html` (the dashboard routes in the browser). `/v1/…` and `/.well-known/…` stay the API's: unknown ones answer
 *   the JSON 404 problem as before.
 * - Every dashboard answer carries a strict Content-Security-Policy (same-origin scripts, styles and
 *   connections only; nothing inline), `nosniff` and `no-referrer`.
 * - Without a built `dist/` the server still starts, and `/` says the dashboard is not built.
 */
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "../errors.js";
import { sendProblem } from "./problem.js";

/** `packages/dashboard/dist/`, from `packages/server/{src,dist}/http/` alike. */
export const DASHBOARD_DIST = fileURLToPath(new URL("../../../dashboard/dist/", import.meta.url));

export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
};

export const BUILD_HINT = "run `npm run build -w @shardvault/dashboard` (npm ci does it)";

/** Paths the API owns: never answered with the dashboard. */
const API_PATH = /^\/(?:v1|\.well-known)(?:\/|$)/;

/** The URL paths (`/index.html`, `/assets/…`) of every file under `root`, or undefined when it is no folder. */
function builtFiles(root: string): Set<string> | undefined {
  try {
    if (!statSync(root).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  const files = new Set<string>();
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      if (entry.isDirectory()) walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      else if (entry.isFile()) files.add(`${prefix}${entry.name}`);
    }
  };
  walk(root, "/");
  return files.has("/index.html") ? files : undefined;
}

/** Whether the dashboard is built (start-up says where it is, or how to build it). */
export const dashboardBuilt = (root: string = DASHBOARD_DIST): boolean => builtFiles(root) !== undefined;

const acceptsHtml = (request: FastifyRequest) => /\btext\/html\b/i.test(String(request.headers.accept ?? ""));

/** Registers the dashboard on `app`: static files and the browser-routing fallback, or the "not built" answer. */
export function registerDashboard(app: FastifyInstance, root: string = DASHBOARD_DIST): void {
  const files = builtFiles(root);
  const routeConfig = { config: { public: true }, schema: { hide: true } } as const;

  if (!files) {
    app.get("/", routeConfig, async (_request, reply) => sendProblem(reply, new AppError(404, "dashboard_not_built", `the dashboard is not built: ${BUILD_HINT}`)));
    return;
  }

  app.register(async (scope) => {
    // sendFile only: the routes below decide what may be served.
    // cacheControl: false, so the Cache-Control set below is the one sent.
    await scope.register(fastifyStatic, { root, serve: false, index: false, dotfiles: "deny", etag: true, lastModified: true, cacheControl: false });

    const send = (reply: FastifyReply, file: string) => {
      reply.headers(DASHBOARD_HEADERS);
      // Vite names assets by content hash; everything else is looked at again on each load.
      reply.header("cache-control", file.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
      return reply.sendFile(file.slice(1), root);
    };

    scope.route({
      method: ["GET", "HEAD"],
      url: "/*",
      ...routeConfig,
      handler: async (request, reply) => {
        const path = request.url.split("?")[0]!;
        if (API_PATH.test(path)) return reply.callNotFound();
        let decoded: string;
        try {
          decoded = decodeURIComponent(path);
        } catch {
          return reply.callNotFound();
        }
        if (decoded === "/") return send(reply, "/index.html");
        if (files.has(decoded)) return send(reply, decoded);
        // A dashboard route (e.g. /vaults/…) loaded or reloaded in the browser; a missing file stays a 404.
        const lastSegment = decoded.slice(decoded.lastIndexOf("/") + 1);
        if (acceptsHtml(request) && !decoded.startsWith("/assets/") && !lastSegment.includes(".")) return send(reply, "/index.html");
        return reply.callNotFound();
      },
    });
  });
}
