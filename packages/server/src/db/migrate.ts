/**
 * Numbered SQL migrations (`NNN_name.sql`, applied in numeric order; numbers may skip), each in its own
 * transaction, recorded in `schema_migrations`. Callers hold the start-up advisory lock.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Database } from "./database.js";

// The .sql files stay in src/ (tsc does not copy them); dist/db/ and src/db/ are equally deep.
const MIGRATIONS_DIR = new URL("../../src/db/migrations/", import.meta.url);

export function listMigrations(): Array<{ number: number; name: string; sql: string }> {
  return readdirSync(MIGRATIONS_DIR)
    .filter((name) => /^\d+_[a-z0-9_]+\.sql$/.test(name))
    .map((name) => ({
      number: Number.parseInt(name, 10),
      name,
      sql: readFileSync(new URL(name, MIGRATIONS_DIR), "utf8"),
    }))
    .sort((a, b) => a.number - b.number);
}

/** Applies the migrations not yet applied, in order; `through` stops after that number (tests build older databases). */
export async function migrate(db: Database, opts: { through?: number } = {}): Promise<string[]> {
  await db.query(
    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
  );
  const applied = new Set((await db.query<{ name: string }>("SELECT name FROM schema_migrations")).map((r) => r.name));
  const ran: string[] = [];
  for (const migration of listMigrations()) {
    if (applied.has(migration.name)) continue;
    if (opts.through !== undefined && migration.number > opts.through) break;
    await db.transaction(async (tx) => {
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query("INSERT INTO schema_migrations (name) VALUES ($1)", [migration.name]);
    });
    ran.push(migration.name);
  }
  return ran;
}

/** Splits a migration file on semicolons at line ends (migrations are plain DDL, no function bodies). */
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
    .filter((s) => s.length > 0);
}
