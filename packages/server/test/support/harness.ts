/**
 * The HTTP test harness: runs the built server (`packages/server/dist/main.js`) as a child process, the way an
 * operator runs it, and talks to it over real HTTP.
 *
 *   const server = await startServer({ database: "pglite" });
 *   const admin = api(server.url, server.adminKey);
 *   const { status, body } = await admin.post("/v1/vaults", { name: "v" });
 *   await server.stop();
 *   assertNoLeak(server.output(), [secretValue, server.adminKey]);
 *
 * Children still running when the test process exits are killed, and the temporary data folders the harness
 * created are removed, so a failing suite leaves nothing behind.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: this file is packages/server/test/support/harness.ts. */
export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
export const SERVER_MAIN = join(REPO_ROOT, "packages/server/dist/main.js");

export type DatabaseKind = "pglite" | "postgres";
export const DATABASE_KINDS: readonly DatabaseKind[] = ["pglite", "postgres"];

export interface StartOptions {
  database: DatabaseKind;
  /** Extra environment for the server (e.g. SHARDVAULT_ADMIN_API_KEY, limits). */
  env?: Record<string, string>;
  /** The data folder; a fresh temporary one when absent. Pass the folder of an earlier start to restart. */
  dataDir?: string;
  /** Required with `database: "postgres"` (see support/postgres.ts `createTestDatabase`). */
  databaseUrl?: string;
  /** The admin key known from an earlier start on the same data (restarts print no key). */
  adminKey?: string;
  /** How long to wait for the listening line (default HUNG_AFTER_MS): a safety net against hangs. */
  startTimeoutMs?: number;
  /** A script to run instead of the built server (a benchmark's variant of it); `.ts` runs through tsx. */
  main?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerHandle {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** The admin's user API key (printed at first start, from SHARDVAULT_ADMIN_API_KEY, or `adminKey`). Throws when unknown. */
  readonly adminKey: string;
  /** Everything the process wrote to stdout and stderr so far, interleaved in arrival order. */
  output(): string;
  /** Sends `signal` (SIGTERM by default) and waits for the process to exit. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<ExitInfo>;
  /** SIGKILL, no chance to clean up (no lock release, no graceful close); waits for the exit. */
  kill9(): Promise<ExitInfo>;
  dataDir: string;
  process: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<ExitInfo>;
}

/** Start-up failed: the process exited (or hung) before it listened. Carries the captured output. */
export class ServerStartError extends Error {
  constructor(
    message: string,
    readonly output: string,
    readonly exit: ExitInfo | undefined,
  ) {
    super(`${message}\n--- server output ---\n${output}--- end of server output ---`);
    this.name = "ServerStartError";
  }
}

/**
 * How long a server may take to start or to stop before it counts as hung: a safety net, not a timing
 * expectation. A start costs about 5 CPU-seconds (mostly PGlite's WebAssembly); on a 2-core machine loaded by
 * other suites that has taken over a minute, so the net sits far beyond.
 */
const HUNG_AFTER_MS = 300_000;

const LISTENING = /^\[shardvault\] listening on (http:\/\/127\.0\.0\.1:\d+)\s*$/m;
export const SHOWN_ONCE = /^Admin API key \(shown once\): (\S+)\s*$/gm;

const running = new Set<ChildProcess>();
const ownedDirs = new Set<string>();

process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
  for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function makeTempDir(label = "shardvault-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), label));
  ownedDirs.add(dir);
  return dir;
}

/** The development deployment's provider slots, each with a key file `<keys dir>/<slot>.key`. */
export const DEV_SLOTS = ["gcp", "aws", "azure"] as const;

/**
 * Writes fresh 32-byte master keys for the local providers into `keysDir` (a new temporary folder when
 * absent), as an operator provisions them before starting several instances that must share them; pass the
 * folder as SHARDVAULT_KEYS_DIR to each instance.
 */
export function provisionLocalKeys(keysDir = makeTempDir("shardvault-keys-")): string {
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  for (const slot of DEV_SLOTS) writeFileSync(join(keysDir, `${slot}.key`), randomBytes(32), { mode: 0o600, flag: "wx" });
  return keysDir;
}

/** The environment a server child gets: the parent's, minus anything that would configure the server. */
export function childEnv(opts: StartOptions, dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith("SHARDVAULT_") || ["DATABASE_URL", "PORT", "HOST", "NODE_OPTIONS", "NODE_TEST_CONTEXT"].includes(name)) continue;
    env[name] = value;
  }
  env.PORT = "0";
  env.HOST = "127.0.0.1";
  env.SHARDVAULT_DATA_DIR = dataDir;
  if (opts.database === "postgres") env.DATABASE_URL = opts.databaseUrl;
  return { ...env, ...opts.env };
}

export async function startServer(opts: StartOptions): Promise<ServerHandle> {
  if (opts.database === "postgres" && !opts.databaseUrl) throw new Error("startServer: database postgres needs databaseUrl");
  if (opts.database === "pglite" && opts.databaseUrl) throw new Error("startServer: databaseUrl given with database pglite");
  const dataDir = opts.dataDir ?? makeTempDir();
  const main = opts.main ?? SERVER_MAIN;
  const child = spawn(process.execPath, [...(main.endsWith(".ts") ? ["--import", "tsx"] : []), main], {
    cwd: REPO_ROOT,
    env: childEnv(opts, dataDir),
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let captured = "";
  const onData = (chunk: Buffer) => {
    captured += chunk.toString("utf8");
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);

  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    // "close" waits for the output streams to end, so output() is complete once this resolves.
    child.on("close", (code, signal) => {
      running.delete(child);
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });

  const url = await new Promise<string>((resolve, reject) => {
    const timeoutMs = opts.startTimeoutMs ?? HUNG_AFTER_MS;
    const timer = setTimeout(() => {
      cleanup();
      child.kill("SIGKILL");
      reject(new ServerStartError(`server did not listen within ${timeoutMs} ms`, captured, undefined));
    }, timeoutMs);
    const check = () => {
      const match = LISTENING.exec(captured);
      if (match) {
        cleanup();
        resolve(match[1]!);
      }
    };
    const onExit = (info: ExitInfo) => {
      cleanup();
      reject(new ServerStartError(`server exited before listening (code ${info.code}, signal ${info.signal})`, captured, info));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off("data", check);
      child.stderr!.off("data", check);
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    void exited.then(onExit);
  });

  const printed = [...captured.matchAll(SHOWN_ONCE)].map((m) => m[1]!);
  const knownKey = opts.env?.SHARDVAULT_ADMIN_API_KEY ?? printed[0] ?? opts.adminKey;

  async function signalAndWait(signal: NodeJS.Signals): Promise<ExitInfo> {
    if (exitInfo) return exitInfo;
    child.kill(signal);
    const timeout = new Promise<"timeout">((resolve) => setTimeout(resolve, HUNG_AFTER_MS, "timeout").unref());
    const result = await Promise.race([exited, timeout]);
    if (result === "timeout") {
      child.kill("SIGKILL");
      await exited;
      throw new Error(`server did not exit within ${HUNG_AFTER_MS} ms of ${signal}; killed\n${captured}`);
    }
    return result;
  }

  return {
    url,
    get adminKey(): string {
      if (knownKey === undefined) {
        throw new Error("no admin key is known for this server: none was printed; pass adminKey (or SHARDVAULT_ADMIN_API_KEY) when restarting");
      }
      return knownKey;
    },
    output: () => captured,
    stop: (signal = "SIGTERM") => signalAndWait(signal),
    kill9: () => signalAndWait("SIGKILL"),
    dataDir,
    process: child,
    exited,
  };
}

/**
 * Runs one of the server's own commands (`admin create-key`, `backup`: `main.js <args>`) with the environment a
 * server of `opts` would get, and waits for it to end.
 */
export function runServerCommand(args: readonly string[], opts: StartOptions & { dataDir: string }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SERVER_MAIN, ...args], { cwd: REPO_ROOT, env: childEnv(opts, opts.dataDir), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

// ---------------------------------------------------------------------------------------------------------
// Requests

export interface ApiResponse<T = any> {
  /** The request, `METHOD url`, for messages. */
  request: string;
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON (also problem+json), the text otherwise, undefined when empty. */
  body: T;
  text: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** A body sent exactly as given (no JSON encoding, no Content-Type unless in `headers`). */
  rawBody?: string | Uint8Array;
}

async function toApiResponse(method: string, res: Response): Promise<ApiResponse> {
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  let body: unknown = text === "" ? undefined : text;
  if (text !== "" && /json/.test(type)) body = JSON.parse(text);
  return { request: `${method} ${res.url}`, status: res.status, headers: res.headers, body, text };
}

/**
 * JSON requests against `url` with `key` as bearer token (none when undefined). A `body` is sent as JSON with
 * `Content-Type: application/json`; `opts.rawBody` sends bytes as they are.
 */
export function api(url: string, key?: string) {
  async function call(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    if (key !== undefined) headers.authorization = `Bearer ${key}`;
    let payload: string | Uint8Array | undefined;
    if (opts.rawBody !== undefined) payload = opts.rawBody;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["content-type"] = "application/json";
    }
    Object.assign(headers, opts.headers);
    const res = await fetch(url + path, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    return toApiResponse(method, res);
  }
  return {
    call,
    get: (path: string, opts?: RequestOptions) => call("GET", path, undefined, opts),
    delete: (path: string, opts?: RequestOptions) => call("DELETE", path, undefined, opts),
    post: (path: string, body?: unknown, opts?: RequestOptions) => call("POST", path, body, opts),
    put: (path: string, body?: unknown, opts?: RequestOptions) => call("PUT", path, body, opts),
  };
}

export type Api = ReturnType<typeof api>;

export interface RawResponse {
  request: string;
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: any;
}

/**
 * A request through `node:http` with the request target sent exactly as given: `fetch` normalises `.` and
 * `..` segments away, this does not.
 */
export function rawRequest(
  url: string,
  opts: { method: string; path: string; headers?: Record<string, string>; body?: string | Uint8Array },
): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: target.hostname, port: target.port, method: opts.method, path: opts.path, headers: opts.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text === "" ? undefined : text;
          if (text !== "" && /json/.test(String(res.headers["content-type"] ?? ""))) body = JSON.parse(text);
          resolve({ request: `${opts.method} ${opts.path}`, status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Assertions

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Asserts an RFC 7807 answer: status, `application/problem+json`, the five fields, the code; never a 5xx unless asked. */
export function assertProblem(
  res: { status: number; headers: Headers | IncomingHttpHeaders; body: any; text: string },
  status: number,
  code: string,
  detail?: RegExp,
  context = "",
): void {
  const where = `${context}${context ? ": " : ""}answer ${res.status} ${res.text.slice(0, 300)}`;
  assert.equal(res.status, status, where);
  const type = res.headers instanceof Headers ? res.headers.get("content-type") : res.headers["content-type"];
  assert.match(String(type), /^application\/problem\+json/, where);
  const body = res.body as Record<string, unknown>;
  assert.equal(typeof body, "object", where);
  assert.equal(typeof body.type, "string", where);
  assert.ok((body.type as string).length > 0, where);
  assert.equal(typeof body.title, "string", where);
  assert.ok((body.title as string).length > 0, where);
  assert.equal(body.status, status, where);
  assert.equal(typeof body.detail, "string", where);
  assert.ok((body.detail as string).length > 0, where);
  assert.equal(body.code, code, where);
  if (detail) assert.match(body.detail as string, detail, where);
}

function encodings(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const forms = [secret, JSON.stringify(secret).slice(1, -1)];
  // Other spellings of long values, in case something logs them encoded.
  if (secret.length >= 12) forms.push(bytes.toString("base64").replace(/=+$/, ""), bytes.toString("base64url"), bytes.toString("hex"));
  return [...new Set(forms)];
}

function occurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) count++;
  return count;
}

/**
 * Asserts that the server's output holds none of `secrets` (values, API keys, shares, tokens), in plain or
 * common encoded form. The one exception is the admin key's first-start line `Admin API key (shown once): …`:
 * at most one such line, and its key appears nowhere else. Any other `1ck_…` / `ocv_…` string in the output
 * also fails, so keys the test did not list are caught too.
 */
export function assertNoLeak(output: string, secrets: readonly string[]): void {
  const shownOnce = [...output.matchAll(SHOWN_ONCE)];
  assert.ok(shownOnce.length <= 1, `the admin key line appears ${shownOnce.length} times`);
  const shownKey = shownOnce[0]?.[1];
  if (shownKey !== undefined) {
    assert.equal(occurrences(output, shownKey), 1, "the shown-once admin key appears outside its line");
    // Its line is the only place with a key-like token.
    const lines = output.split("\n").filter((line) => line.includes(shownKey));
    assert.deepEqual(lines.map((l) => l.replace(/\s+$/, "")), [`Admin API key (shown once): ${shownKey}`]);
  }
  const withoutShownLine = shownKey === undefined ? output : output.replace(shownOnce[0]![0], "");
  const tokens = withoutShownLine.match(/(?:1ck|ocv)_[A-Za-z0-9_-]{8,}/g) ?? [];
  assert.deepEqual(tokens, [], "API-key-like strings in the server output");
  for (const secret of secrets) {
    if (secret === "") continue;
    for (const form of encodings(secret)) {
      const allowed = form === shownKey ? 1 : 0;
      const found = occurrences(withoutShownLine, form) + (form === shownKey ? 1 : 0);
      assert.ok(found <= allowed, `a secret (${secret.slice(0, 6)}…, ${form === secret ? "verbatim" : "encoded"}) appears in the server output`);
    }
  }
}

/** One request's log line (observability/request-log.ts). */
export interface RequestLogLine {
  level: string;
  time: string;
  msg: "request";
  request_id: string;
  method: string;
  route: string | null;
  status: number;
  duration_ms: number;
  principal?: string;
}

/**
 * Asserts the server's output is the start-up summary (`[shardvault] …` and the admin key line) and JSON
 * lines, each an object with `level`, `time` and `msg`, every request's line with its `request_id`; answers
 * the request lines. Tests that check the output for leaks call it first, so the JSON logs are read too.
 */
export function assertJsonLogs(output: string): RequestLogLine[] {
  const requests: RequestLogLine[] = [];
  for (const line of output.split("\n")) {
    // Node's own process warnings go to standard error as they always do.
    const plain = [/^\[shardvault\] /, /^Admin API key \(shown once\): /, /^\(node:\d+\) /, /^\(Use `node --trace/];
    if (line === "" || plain.some((p) => p.test(line))) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line);
    } catch {
      assert.fail(`a log line is neither the start-up summary nor JSON: ${line.slice(0, 200)}`);
    }
    assert.equal(typeof entry.level, "string", line);
    assert.equal(typeof entry.time, "string", line);
    assert.equal(typeof entry.msg, "string", line);
    if (entry.msg === "request") {
      assert.match(String(entry.request_id), /\S/, `a request line without its request_id: ${line}`);
      requests.push(entry as unknown as RequestLogLine);
    }
  }
  return requests;
}

/** A fresh, distinctive secret value that is easy to search for in output and dumps. */
export function secretValue(label = "v"): string {
  return `${label}-${randomUUID()}-${Math.random().toString(36).slice(2)}`;
}

/**
 * An `expires_at` a little in the future and a wait until it has passed. A write with a past `expires_at` is
 * refused (400 expires_at_in_past), so expiry is tested by writing just before it and reading after; the test
 * asserts what happens after the time, never how long anything took.
 */
export function expiringSoon(ms = 1500): { expiresAt: string; passed(): Promise<void> } {
  const at = Date.now() + ms;
  return {
    expiresAt: new Date(at).toISOString(),
    passed: () => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now()) + 50)),
  };
}

/** Starts a server that must fail to start; answers the failure (its output and exit). */
export async function expectStartFailure(opts: StartOptions): Promise<ServerStartError> {
  try {
    const server = await startServer(opts);
    await server.stop();
  } catch (error) {
    assert.ok(error instanceof ServerStartError, String(error));
    return error;
  }
  assert.fail("the server started");
}
