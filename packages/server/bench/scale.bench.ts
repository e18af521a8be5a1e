/**
 * `npm run bench:scale`: does a secret read stay as fast in a large database, and is a page of a large vault's
 * list cheap? Two servers on PostgreSQL, each on its own database: one nearly empty, one filled with
 *
 * - 100 vaults of 1,000 paths × 10 versions: 1,000,000 secret versions over 100,000 paths, and
 * - one more vault of 100,000 paths × 2 versions (200,000 more), whose list is read in pages.
 *
 * The filling rows are made by the real sealing code (envelope/plain.ts, the vault's own KEK at its provider),
 * once per vault as a template, and copied by batched INSERT … SELECT (generate_series) with their own paths and
 * versions: they weigh on tables and indexes like real rows, but each is bound to its template's path, so the
 * server would refuse to open one. What is measured is real: 1,000 secrets written through the API (in the
 * first filled vault, among its filling rows; and likewise in the empty database), read round-robin.
 *
 * Printed: secret GET p50 and requests/s, 50 connections, filled vs empty, in alternating rounds; p50 of one
 * page of 100 from the 100,000-path vault (first page and one from its middle), at 1 and at 50 connections;
 * the server's peak RSS under the 50-connection GET load; the plans (EXPLAIN ANALYZE) of the read's one query
 * and of a page. Targets: GET p50 within 20% of the empty database's; a page p50 ≤ 20 ms; RSS ≤ 300 MB.
 * `--small` fills a hundredth, for a quick look. The load average is printed beside every figure.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadSigningKeys } from "../src/auth/signing-keys.js";
import { createAuthenticator } from "../src/auth/authenticate.js";
import type { Queryable } from "../src/db/database.js";
import { openPostgres } from "../src/db/postgres.js";
import { sealPlain } from "../src/envelope/plain.js";
import { createLocalProvider } from "../src/providers/local.js";
import { createRegistry } from "../src/providers/registry.js";
import { encodeListCursor } from "../src/secrets/list-cursor.js";
import { listLatest } from "../src/secrets/secret-queries.js";
import { withClient } from "../test/support/postgres.js";
import { load, loadAverage, meanOf, printTable, startBenchServer, VALUE_1K, type BenchServer, type LoadResult } from "./support.js";

const small = process.argv.includes("--small");
const VAULTS = small ? 10 : 100;
const PATHS_PER_VAULT = small ? 100 : 1000;
const VERSIONS = 10;
const BIG_PATHS = small ? 10_000 : 100_000;
const BIG_VERSIONS = 2;
const REAL_SECRETS = 1000;
const PAGE = 100;
const load1 = () => loadAverage().toFixed(2);
const pathOf = (i: number) => `fill/${String(i).padStart(6, "0")}`;

/** Writes the measured secrets (`real/r-0` … through the API) into a new vault; answers the vault's id. */
async function realSecrets(bench: BenchServer, vaultId?: string): Promise<string> {
  const id = vaultId ?? (await bench.call("POST", "/v1/vaults", { name: "real" })).id;
  for (let i = 0; i < REAL_SECRETS; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => bench.call("PUT", `/v1/vaults/${id}/secrets/real/r-${i + j}`, { type: "api_key", value: VALUE_1K })));
  }
  return id;
}

/** Fills `vaultId` with `paths` × `versions` rows copied from one template sealed for it by the real code. */
async function fill(bench: BenchServer, db: Queryable, vaultId: string, paths: number, versions: number): Promise<void> {
  const [vault] = await db.query<{ kek_slot: string; kek_id: string; created_by: string }>("SELECT kek_slot, kek_id, created_by FROM vaults WHERE id = $1", [vaultId]);
  const provider = createLocalProvider(vault!.kek_slot, join(bench.server.dataDir, "keys", `${vault!.kek_slot}.key`));
  const template = await sealPlain({ provider, kekId: vault!.kek_id }, { vaultId, path: "fill/template", version: 1 }, Buffer.from(VALUE_1K));
  const chunk = 20_000;
  for (let from = 0; from < paths; from += chunk) {
    const to = Math.min(paths, from + chunk) - 1;
    await db.query(
      `INSERT INTO secret_versions (id, vault_id, path, version, type, ciphertext, dek_commitment, wrapped_dek, kek_slot, kek_id, created_by, created_by_type)
       SELECT gen_random_uuid(), $1, 'fill/' || lpad(p::text, 6, '0'), n, 'api_key', $2, $3, $4, $5, $6, $7, 'user'
         FROM generate_series($8::int, $9::int) p, generate_series(1, $10::int) n`,
      [vaultId, template.ciphertext, template.commitment, template.wrappedDek, vault!.kek_slot, vault!.kek_id, vault!.created_by, from, to, versions],
    );
    await db.query(
      `INSERT INTO secret_paths (vault_id, path, last_version) SELECT $1, 'fill/' || lpad(p::text, 6, '0'), $4 FROM generate_series($2::int, $3::int) p`,
      [vaultId, from, to, versions],
    );
  }
}

/** The server's resident set size (VmRSS, MB) sampled while `during` runs: the peak. */
async function peakRss(pid: number, during: Promise<unknown>): Promise<number> {
  let peak = 0;
  const sample = () => {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    peak = Math.max(peak, Number(kb ?? 0) / 1024);
  };
  const timer = setInterval(sample, 100);
  try {
    await during;
  } finally {
    clearInterval(timer);
  }
  sample();
  return peak;
}

/** EXPLAIN (ANALYZE, BUFFERS) of a statement as the server runs it (prepared, with its parameters). */
async function explain(url: string, statement: { sql: string; params: readonly unknown[] }): Promise<string> {
  return withClient(url, async (c) => {
    await c.query(`PREPARE measured AS ${statement.sql}`);
    const args = statement.params.map((p) => (p === null ? "NULL" : `'${String(p).replaceAll("'", "''")}'`)).join(", ");
    const execute = `EXECUTE measured${args ? `(${args})` : ""}`;
    for (let i = 0; i < 3; i++) await c.query(execute);
    const plan = await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${execute}`);
    return plan.rows.map((r: Record<string, string>) => `    ${r["QUERY PLAN"]}`).join("\n");
  });
}

/** The statement `run` sends through a database, captured. */
async function captured(db: Queryable, run: (q: Queryable) => Promise<unknown>): Promise<{ sql: string; params: readonly unknown[] }> {
  let statement: { sql: string; params: readonly unknown[] } | undefined;
  await run({ query: (sql, params = []) => ((statement = { sql, params }), db.query(sql, params)) });
  return statement!;
}

console.log(`load average (1 min) at start: ${load1()}`);
const empty = await startBenchServer();
const filled = await startBenchServer();
const db = await openPostgres(filled.db.url, 4);
try {
  const emptyVault = await realSecrets(empty);
  const vaults: string[] = [];
  for (let i = 0; i < VAULTS; i++) vaults.push((await filled.call("POST", "/v1/vaults", { name: `fill-${i}` })).id);
  const big = (await filled.call("POST", "/v1/vaults", { name: "big" })).id;
  const started = performance.now();
  for (const vaultId of vaults) await fill(filled, db, vaultId, PATHS_PER_VAULT, VERSIONS);
  await fill(filled, db, big, BIG_PATHS, BIG_VERSIONS);
  await realSecrets(filled, vaults[0]);
  await db.query("VACUUM (ANALYZE) secret_versions");
  await db.query("VACUUM (ANALYZE) secret_paths");
  const [counts] = await db.query<{ versions: number; paths: number; vaults: number; size: string }>(
    `SELECT (SELECT count(*)::int FROM secret_versions) AS versions, (SELECT count(*)::int FROM secret_paths) AS paths,
            (SELECT count(*)::int FROM vaults) AS vaults, pg_size_pretty(pg_total_relation_size('secret_versions')) AS size`,
  );
  console.log(
    `filled in ${((performance.now() - started) / 1000).toFixed(0)} s: ${counts!.versions} versions, ${counts!.paths} paths, ${counts!.vaults} vaults; ` +
      `secret_versions with its indexes: ${counts!.size}; load average ${load1()}`,
  );

  const auth = (bench: BenchServer) => ({ authorization: `Bearer ${bench.token}` });
  const get = (bench: BenchServer, vaultId: string, label: string, name: string) =>
    load({
      name: `GET secret, ${label}, ${name}`,
      url: `${bench.server.url}/v1/vaults/${vaultId}/secrets/real/r`,
      cyclePaths: REAL_SECRETS,
      headers: auth(bench),
      connections: 50,
      warmupSeconds: 2,
      durationSeconds: 6,
      measured: bench,
    });
  const gets: Record<"empty" | "filled", LoadResult[]> = { empty: [], filled: [] };
  let rss = 0;
  for (let i = 1; i <= 3; i++) {
    const pair = [
      async () => gets.empty.push(await get(empty, emptyVault, "empty database", `round ${i}`)),
      async () => {
        const running = get(filled, vaults[0]!, `${counts!.versions} versions`, `round ${i}`);
        rss = Math.max(rss, await peakRss(filled.server.process.pid!, running));
        gets.filled.push(await running);
      },
    ];
    for (const run of i % 2 === 1 ? pair : pair.reverse()) await run();
  }
  const middle = encodeListCursor(pathOf(Math.floor(BIG_PATHS / 2)));
  const pageUrl = (cursor?: string) => `${filled.server.url}/v1/vaults/${big}/secrets?limit=${PAGE}${cursor ? `&cursor=${cursor}` : ""}`;
  const page = (label: string, cursor: string | undefined, connections: number) =>
    load({ name: `GET one page of ${PAGE} (${BIG_PATHS}-path vault), ${label}, ${connections} connection${connections > 1 ? "s" : ""}`, url: pageUrl(cursor), headers: auth(filled), connections, warmupSeconds: 2, durationSeconds: 6, measured: filled });
  const pages = [await page("first page", undefined, 1), await page("from the middle", middle, 1), await page("first page", undefined, 50), await page("from the middle", middle, 50)];
  const [emptyGet, filledGet] = [meanOf(gets.empty, "GET secret, empty database, rounds' mean"), meanOf(gets.filled, `GET secret, ${counts!.versions} versions, rounds' mean`)];
  printTable("PostgreSQL, JWT auth, 1 KiB values", [...gets.empty, ...gets.filled, emptyGet, filledGet, ...pages]);

  const slower = filledGet.p50 / emptyGet.p50 - 1;
  console.log(
    `\nGET p50, filled vs empty: ${filledGet.p50.toFixed(1)} vs ${emptyGet.p50.toFixed(1)} ms (${(slower * 100).toFixed(1)}%; target within 20%: ${slower <= 0.2 ? "PASS" : "MISS"}); ` +
      `req/s ${filledGet.requestsPerSecond.toFixed(0)} vs ${emptyGet.requestsPerSecond.toFixed(0)}`,
  );
  for (const p of pages) console.log(`${p.name}: p50 ${p.p50.toFixed(1)} ms (target ≤ 20: ${p.p50 <= 20 ? "PASS" : "MISS"})`);
  console.log(`server RSS under the 50-connection GET load, peak: ${rss.toFixed(0)} MB (target ≤ 300: ${rss <= 300 ? "PASS" : "MISS"})`);

  // The plans: index scans whose cost does not grow with the table.
  const providers = createRegistry(["gcp", "aws", "azure"].map((s) => createLocalProvider(s, join(filled.server.dataDir, "keys", `${s}.key`))), "gcp");
  const keys = await loadSigningKeys(db, providers);
  const read = await captured(db, (q) => createAuthenticator(q, keys)(`Bearer ${filled.token}`, { vaultId: vaults[0]!, read: { path: "real/r-500" } }));
  console.log(`\nplan of a secret read's one query (authentication, vault, policies, version):\n${await explain(filled.db.url, read)}`);
  const middlePage = await captured(db, (q) => listLatest(q, big, "", pathOf(Math.floor(BIG_PATHS / 2)), PAGE + 1));
  console.log(`\nplan of a page of ${PAGE} from the middle of the ${BIG_PATHS}-path vault:\n${await explain(filled.db.url, middlePage)}`);
  console.log(`\nload average (1 min) at end: ${load1()}`);
} finally {
  await db.close();
  await Promise.all([empty.close(), filled.close()]);
}
