/** Embedded PostgreSQL (PGlite) on disk in the data folder. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { Database, Queryable } from "./database.js";
import { acquireFolderLock } from "./folder-lock.js";

/** Where in the data folder PGlite keeps its database. */
export const pgliteDataDir = (dataDir: string) => join(dataDir, "pgdata");

export async function openPglite(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // PGlite does not lock its folder itself; two processes on one folder would corrupt it.
  const lock = acquireFolderLock(dataDir);
  const dbDir = pgliteDataDir(dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create(dbDir);
  } catch (error) {
    lock.release();
    throw error;
  }
  const wrap = (q: Pick<PGlite, "query">): Queryable => ({
    async query<T>(sql: string, params: readonly unknown[] = []) {
      return (await q.query<T>(sql, params as unknown[])).rows;
    },
  });
  const heldLocks = new Set<bigint>();
  return {
    kind: "pglite",
    description: `embedded PostgreSQL (PGlite) in ${dbDir}`,
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    async listen(channel, onNotify) {
      await db.listen(channel, () => onNotify());
    },
    // One process owns the folder (see the lock above), so there is nobody to exclude.
    withAdvisoryLock: (_lockId, fn) => fn(),
    // Within the one process, a set of held keys is the whole lock table.
    async tryAdvisoryLock(key) {
      if (heldLocks.has(key)) return undefined;
      heldLocks.add(key);
      return { release: async () => void heldLocks.delete(key) };
    },
    async close() {
      await db.close();
      lock.release();
    },
  };
}
