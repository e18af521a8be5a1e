/**
 * The scale-out drill: three instances on one PostgreSQL behind nginx (deploy/nginx-shardvault.conf, its ports
 * rewritten), all on loopback; mixed reads and writes through nginx; `kill -9` of one instance half-way through;
 * then every acknowledged write read back, version numbers checked, and a token the dead instance issued tried
 * at the others. The load is counted in operations, not seconds, so the kill falls at the same point of the
 * work however fast the machine is. `npm run drill:ha` prints the figures; test/drill-ha.test.ts asserts them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { makeTempDir, provisionLocalKeys, REPO_ROOT, startServer, type ServerHandle } from "../test/support/harness.js";
import { createTestDatabase } from "../test/support/postgres.js";

export const NGINX = "/usr/sbin/nginx";
export const NGINX_CONF = join(REPO_ROOT, "deploy/nginx-shardvault.conf");

export interface DrillOptions {
  /** Requests of the load, reads and writes together; the kill comes after half of them have been answered. */
  operations?: number;
  /** Clients sending at once (each writes its own paths, one write after another, and reads). */
  clients?: number;
  log?: (line: string) => void;
}

export interface DrillFigures {
  requests: number;
  reads: number;
  writes: number;
  /** Failed answers (a 5xx, or no answer), by when the request was made. */
  errors: { total: number; inFlightAtKill: number; afterKill: number; beforeKill: number };
  /** Answered while the request was on its way when the instance died. */
  inFlightAtKill: number;
  acknowledgedWrites: number;
  /** Acknowledged writes whose version does not read back with its value. */
  lostWrites: number;
  /** Version numbers answered to two acknowledged writes of one path. */
  duplicateVersions: number;
  /** Versions stored that no acknowledgement named: writes in flight at the kill that committed, or that nginx sent again. */
  unacknowledgedVersions: number;
  /** Surviving instances that accept a token the dead one issued. */
  survivorsAcceptingDeadInstanceToken: number;
  survivors: number;
  seconds: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** deploy/nginx-shardvault.conf with the instances' ports in its upstream and `port` in its listen line. */
export function renderNginxConf(ports: readonly number[], port: number): string {
  let next = 0;
  const conf = readFileSync(NGINX_CONF, "utf8")
    .replace(/^(\s*server 127\.0\.0\.1:)\d+/gm, (_line, head: string) => `${head}${ports[next++]}`)
    .replace(/^(\s*listen 127\.0\.0\.1:)\d+;/m, `$1${port};`);
  if (next !== ports.length) throw new Error(`${NGINX_CONF} names ${next} upstream servers, the drill runs ${ports.length}`);
  return conf;
}

async function startNginx(ports: readonly number[]): Promise<{ url: string; process: ChildProcess; stop(): Promise<void> }> {
  const dir = makeTempDir("shardvault-nginx-");
  const port = await freePort();
  writeFileSync(join(dir, "shardvault.conf"), renderNginxConf(ports, port));
  for (const temp of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, temp));
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  include ${dir}/shardvault.conf;
}
`,
  );
  const child = spawn(NGINX, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    try {
      await fetch(`${url}/v1/health`);
      break;
    } catch {
      if (attempt > 200) throw new Error(`nginx did not answer: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    url,
    process: child,
    async stop() {
      if (child.exitCode === null) child.kill("SIGQUIT");
      await exited;
    },
  };
}

interface Outcome {
  started: number;
  ended: number;
  ok: boolean;
  kind: "read" | "write";
}

interface Ack {
  path: string;
  version: number;
  value: string;
}

async function call(url: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

export async function runHaDrill(opts: DrillOptions = {}): Promise<DrillFigures> {
  const log = opts.log ?? (() => undefined);
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: apt-get install nginx`);
  const operations = opts.operations ?? 4000;
  const clients = opts.clients ?? 16;
  const database = await createTestDatabase("ha");
  const servers: ServerHandle[] = [];
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  try {
    const keysDir = provisionLocalKeys();
    const config = join(makeTempDir("shardvault-ha-"), "shardvault.json");
    const slots = Object.fromEntries(["gcp", "aws", "azure"].map((slot) => [slot, { backend: "local", key_file: join(keysDir, `${slot}.key`) }]));
    writeFileSync(config, JSON.stringify({ default_provider: "gcp", providers: slots, trust_proxy: ["127.0.0.1"] }));
    const env = { SHARDVAULT_CONFIG: config };
    servers.push(await startServer({ database: "postgres", databaseUrl: database.url, env }));
    const adminKey = servers[0]!.adminKey;
    for (let i = 1; i < 3; i++) servers.push(await startServer({ database: "postgres", databaseUrl: database.url, env, adminKey }));
    nginx = await startNginx(servers.map((s) => Number(new URL(s.url).port)));
    const victim = servers[2]!;
    log(`three instances (${servers.map((s) => s.url).join(", ")}) behind nginx at ${nginx.url}`);

    // The load's token is issued by the instance that will die.
    const exchanged = await call(victim.url, "", "POST", "/v1/auth/api-key-token", { api_key: adminKey });
    const token = exchanged.json.access_token as string;
    const plain = await call(nginx.url, token, "POST", "/v1/vaults", { name: "ha-plain" });
    const mpc = await call(nginx.url, token, "POST", "/v1/vaults", { name: "ha-mpc", mpc_custody: "2of3_multi_hsm" });
    const vaults = [plain.json.id as string, mpc.json.id as string];

    const outcomes: Outcome[] = [];
    const acks: Ack[] = [];
    let answered = 0;
    let issued = 0;
    let killAt = Number.POSITIVE_INFINITY;
    let killing: Promise<unknown> | undefined;
    const begun = performance.now();

    const client = async (index: number) => {
      const vault = vaults[index % vaults.length]!;
      const path = `client-${index}/secret`;
      let written = 0;
      while (issued < operations) {
        issued++;
        // Two reads for each write, once the client has written something to read.
        const write = written === 0 || issued % 3 === 0;
        const started = performance.now();
        let ok = false;
        try {
          if (write) {
            const value = `drill-${index}-${written}-${Math.random().toString(36).slice(2)}`;
            const res = await call(nginx!.url, token, "PUT", `/v1/vaults/${vault}/secrets/${path}`, { value });
            ok = res.status === 201;
            if (ok) {
              acks.push({ path: `${vault}/${path}`, version: res.json.version, value });
              written++;
            }
          } else {
            const res = await call(nginx!.url, token, "GET", `/v1/vaults/${vault}/secrets/${path}`);
            ok = res.status === 200;
          }
        } catch {
          ok = false;
        }
        outcomes.push({ started, ended: performance.now(), ok, kind: write ? "write" : "read" });
        if (++answered === Math.floor(operations / 2) && !killing) {
          killAt = performance.now();
          log(`kill -9 ${victim.url} after ${answered} answered requests`);
          killing = victim.kill9();
        }
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
    await killing;
    const seconds = (performance.now() - begun) / 1000;
    const survivors = servers.filter((s) => s !== victim);

    // Every acknowledged write reads back, at its version, through nginx.
    let lostWrites = 0;
    for (const ack of acks) {
      const [vault, ...rest] = ack.path.split("/");
      const res = await call(nginx.url, token, "GET", `/v1/vaults/${vault}/secrets/${rest.join("/")}?version=${ack.version}`);
      if (res.status !== 200 || res.json.value !== ack.value) lostWrites++;
    }
    const byPath = new Map<string, number[]>();
    for (const ack of acks) byPath.set(ack.path, [...(byPath.get(ack.path) ?? []), ack.version]);
    const duplicateVersions = [...byPath.values()].reduce((sum, versions) => sum + versions.length - new Set(versions).size, 0);
    let stored = 0;
    for (const path of byPath.keys()) {
      const [vault, ...rest] = path.split("/");
      const res = await call(nginx.url, token, "GET", `/v1/vaults/${vault}/secret-versions/${rest.join("/")}`);
      stored += (res.json.versions as unknown[]).length;
    }
    let accepting = 0;
    for (const survivor of survivors) if ((await call(survivor.url, token, "GET", "/v1/vaults")).status === 200) accepting++;

    const failed = outcomes.filter((o) => !o.ok);
    const inFlight = (o: Outcome) => o.started <= killAt && o.ended >= killAt;
    return {
      requests: outcomes.length,
      reads: outcomes.filter((o) => o.kind === "read").length,
      writes: outcomes.filter((o) => o.kind === "write").length,
      errors: {
        total: failed.length,
        inFlightAtKill: failed.filter(inFlight).length,
        afterKill: failed.filter((o) => o.started > killAt).length,
        beforeKill: failed.filter((o) => o.ended < killAt).length,
      },
      inFlightAtKill: outcomes.filter(inFlight).length,
      acknowledgedWrites: acks.length,
      lostWrites,
      duplicateVersions,
      unacknowledgedVersions: stored - acks.length,
      survivorsAcceptingDeadInstanceToken: accepting,
      survivors: survivors.length,
      seconds,
    };
  } finally {
    await nginx?.stop();
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
    await database.drop();
  }
}

export function describeFigures(f: DrillFigures): string[] {
  return [
    `requests: ${f.requests} (${f.reads} reads, ${f.writes} writes) in ${f.seconds.toFixed(1)} s, ${(f.requests / f.seconds).toFixed(0)} req/s`,
    `in flight when the instance died: ${f.inFlightAtKill}`,
    `errors: ${f.errors.total} (in flight at the kill: ${f.errors.inFlightAtKill}; sent after it: ${f.errors.afterKill}; before it: ${f.errors.beforeKill})`,
    `acknowledged writes: ${f.acknowledgedWrites}; lost: ${f.lostWrites}; version numbers answered twice: ${f.duplicateVersions}`,
    `versions stored without an acknowledgement (in flight at the kill, or sent again by nginx): ${f.unacknowledgedVersions}`,
    `surviving instances accepting a token the dead one issued: ${f.survivorsAcceptingDeadInstanceToken} of ${f.survivors}`,
  ];
}
