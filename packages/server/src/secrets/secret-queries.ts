import type { StoredShare } from "../envelope/mpc.js";
import type { VersionLayout } from "../envelope/protection.js";
import type { Queryable } from "../db/database.js";
import type { AuditedChange } from "../audit/audit.js";
import { vaultColumns, type VaultRow } from "../vaults/vault-queries.js";

export interface SecretVersionRow {
  id: string;
  vault_id: string;
  path: string;
  version: number;
  type: string;
  metadata: Record<string, unknown> | null;
  ciphertext: Uint8Array;
  dek_commitment: Uint8Array;
  wrapped_dek: Uint8Array | null;
  kek_slot: string | null;
  kek_id: string | null;
  cmek_fingerprint: string | null;
  /** MPC vaults: the layout generation its shares were made for, the holders they are bound to, and the holders its commitment binds when those differ. */
  mpc_generation: number | null;
  mpc_providers: string[] | null;
  mpc_commitment_providers: string[] | null;
  expires_at: Date | null;
  max_access_count: number | null;
  access_count: number;
  is_disabled: boolean;
  deleted_at: Date | null;
  created_by: string;
  created_by_type: string;
  created_at: Date;
}

export type SecretMetaRow = Omit<SecretVersionRow, "ciphertext" | "dek_commitment" | "wrapped_dek" | "mpc_generation" | "mpc_providers" | "mpc_commitment_providers">;

const META_NAMES = [
  "id", "vault_id", "path", "version", "type", "metadata", "kek_slot", "kek_id", "cmek_fingerprint", "expires_at", "max_access_count",
  "access_count", "is_disabled", "deleted_at", "created_by", "created_by_type", "created_at",
] as const;
const FULL_NAMES = [...META_NAMES, "ciphertext", "dek_commitment", "wrapped_dek", "mpc_generation", "mpc_providers", "mpc_commitment_providers"] as const;
const META = META_NAMES.join(", ");
const FULL = FULL_NAMES.join(", ");

/**
 * Reserves the next version number of a path in its own statement (its own short transaction), and reads the
 * vault's per-slot MPC KEKs in the same round trip (none for a plain vault).
 */
export async function reserveVersion(db: Queryable, vaultId: string, path: string): Promise<{ version: number; mpcKeks: Map<string, string> }> {
  const [row] = await db.query<{ last_version: number; keks: Record<string, string> | null }>(
    `WITH reserved AS (
       INSERT INTO secret_paths (vault_id, path, last_version) VALUES ($1, $2, 1)
       ON CONFLICT (vault_id, path) DO UPDATE SET last_version = secret_paths.last_version + 1
       RETURNING last_version)
     SELECT last_version, (SELECT json_object_agg(provider, kek_id) FROM vault_mpc_keks WHERE vault_id = $1) AS keks FROM reserved`,
    [vaultId, path],
  );
  return { version: row!.last_version, mpcKeks: new Map(Object.entries(row!.keks ?? {})) };
}

/**
 * Claims version `version` of a path for a write the client sealed for that number: only when it is the next
 * one (the path's last reserved version is `version - 1`, or none and `version` is 1), checked against the row
 * as it is when locked, so two claims of one number never both succeed. Reads the vault's MPC KEKs in the same
 * round trip; `keks` is undefined when the claim failed.
 */
export async function claimVersion(db: Queryable, vaultId: string, path: string, version: number): Promise<Map<string, string> | undefined> {
  const [row] = await db.query<{ claimed: boolean; keks: Record<string, string> | null }>(
    `WITH claimed AS (
       INSERT INTO secret_paths (vault_id, path, last_version)
       SELECT $1, $2, $3 WHERE COALESCE((SELECT last_version FROM secret_paths WHERE vault_id = $1 AND path = $2), 0) = $3 - 1
       ON CONFLICT (vault_id, path) DO UPDATE SET last_version = EXCLUDED.last_version WHERE secret_paths.last_version = EXCLUDED.last_version - 1
       RETURNING last_version)
     SELECT EXISTS (SELECT 1 FROM claimed) AS claimed, (SELECT json_object_agg(provider, kek_id) FROM vault_mpc_keks WHERE vault_id = $1) AS keks`,
    [vaultId, path, version],
  );
  return row!.claimed ? new Map(Object.entries(row!.keks ?? {})) : undefined;
}

/** A new version's row, as a write stores it. */
export type NewVersion = Omit<SecretVersionRow, "access_count" | "is_disabled" | "deleted_at" | "created_at" | "mpc_generation" | "mpc_providers" | "mpc_commitment_providers">;

/** What `versionChange` answers: the vault row as the write locked it (absent: deleted), and the stored version. */
export interface VersionChangeAnswer {
  vault: VaultRow | null;
  version: SecretMetaRow | null;
}

/**
 * A new version and its shares, as a change stored in one statement with its audit event (audit.recordWith).
 * The vault row is locked FOR SHARE, so enabling MPC and a lifecycle switch (FOR UPDATE) wait for the write;
 * the gate: its protection columns are still those of `seen`, the row the version was sealed under. When they
 * are not, nothing is stored and the answer's vault row says what changed.
 */
export function versionChange(row: NewVersion, layout: VersionLayout | undefined, shares: readonly StoredShare[], seen: VaultRow): AuditedChange {
  return {
    sql(p, name) {
      const [vault, version, stored] = [name("vault"), name("version"), name("shares")];
      const columns = `id, vault_id, path, version, type, metadata, ciphertext, dek_commitment, wrapped_dek, kek_slot, kek_id, expires_at, max_access_count,
        created_by, created_by_type, cmek_fingerprint, mpc_generation, mpc_providers`;
      return {
        read: `${vault} AS MATERIALIZED (SELECT ${vaultColumns("v")} FROM vaults v WHERE v.id = ${p(row.vault_id)}::uuid FOR SHARE)`,
        gate: `EXISTS (SELECT 1 FROM ${vault} WHERE (cmek_fingerprint, mpc_custody, kek_id, mpc_generation, mpc_providers) IS NOT DISTINCT FROM
                 (${p(seen.cmek_fingerprint)}::text, ${p(seen.mpc_custody)}::text, ${p(seen.kek_id)}::text, ${p(seen.mpc_generation)}::int, ${p(seen.mpc_providers)}::text[]))`,
        store: (when) => `${version} AS (
            INSERT INTO secret_versions (${columns})
            SELECT ${p(row.id)}::uuid, ${p(row.vault_id)}::uuid, ${p(row.path)}::text, ${p(row.version)}::int, ${p(row.type)}::text,
                   ${p(row.metadata === null ? null : JSON.stringify(row.metadata))}::jsonb, ${p(row.ciphertext)}::bytea, ${p(row.dek_commitment)}::bytea,
                   ${p(row.wrapped_dek)}::bytea, ${p(row.kek_slot)}::text, ${p(row.kek_id)}::text, ${p(row.expires_at)}::timestamptz, ${p(row.max_access_count)}::int,
                   ${p(row.created_by)}::uuid, ${p(row.created_by_type)}::text, ${p(row.cmek_fingerprint)}::text, ${p(layout?.generation ?? null)}::int,
                   ${p(layout?.holders ?? null)}::text[]
             WHERE ${when}
            RETURNING ${META}),
          ${stored} AS (
            INSERT INTO secret_dek_shares (version_id, vault_id, provider, share_index, kek_id, wrapped_share)
            SELECT ${p(row.id)}::uuid, ${p(row.vault_id)}::uuid, *
              FROM unnest(${p(shares.map((s) => s.provider))}::text[], ${p(shares.map((s) => s.shareIndex))}::int[], ${p(shares.map((s) => s.kekId))}::text[],
                          ${p(shares.map((s) => s.wrappedShare))}::bytea[])
             WHERE ${when})`,
        answer: `json_build_object('vault', (SELECT row_to_json(x) FROM ${vault} x), 'version', (SELECT row_to_json(x) FROM ${version} x))`,
      };
    },
  };
}

/** The newest live (not deleted, not disabled) version of a path, or a given version. */
export async function findVersion(db: Queryable, vaultId: string, path: string, version?: number): Promise<SecretVersionRow | undefined> {
  const [row] =
    version === undefined
      ? await db.query<SecretVersionRow>(
          `SELECT ${FULL} FROM secret_versions WHERE vault_id = $1 AND path = $2 AND deleted_at IS NULL AND NOT is_disabled
           ORDER BY version DESC LIMIT 1`,
          [vaultId, path],
        )
      : await db.query<SecretVersionRow>(`SELECT ${FULL} FROM secret_versions WHERE vault_id = $1 AND path = $2 AND version = $3`, [
          vaultId,
          path,
          version,
        ]);
  return row;
}

/** A version by its id, if it belongs to a vault of the organization. */
export async function findVersionById(db: Queryable, orgId: string, versionId: string): Promise<SecretVersionRow | undefined> {
  const [row] = await db.query<SecretVersionRow>(
    `SELECT ${FULL} FROM secret_versions WHERE id = $1 AND vault_id IN (SELECT id FROM vaults WHERE org_id = $2)`,
    [versionId, orgId],
  );
  return row;
}

/** A version as a value read uses it: its row and, in an MPC vault, its shares and the path's last reserved number. */
export interface ReadableVersion {
  row: SecretVersionRow;
  /** MPC vaults: the commitment, layout and shares, from the same statement as the row (one snapshot). */
  mpc: MpcState | undefined;
  /** MPC vaults: the highest version number ever reserved for the path (client-share checks); else 0. */
  lastVersion: number;
}

/**
 * What a value read loads, as parts of a statement in which `v` is the vault row (a LEFT JOIN, so possibly
 * null): select-list items (`s_*` columns) and LATERAL joins. `$path` and `$version` are the parameter
 * numbers of the path and, when the read names one, the version; without it, the newest live version.
 * Shares and the counter are read for MPC vaults only. Authentication embeds it in its one query, so that a
 * read costs one round trip (auth/authenticate.ts); `findReadable` runs it alone.
 */
export function readableVersionSql(path: number, version?: number): { columns: string; joins: string } {
  const which = version === undefined ? "AND deleted_at IS NULL AND NOT is_disabled ORDER BY version DESC LIMIT 1" : `AND version = $${version}`;
  return {
    columns: [...FULL_NAMES.map((name) => `s.${name} AS s_${name}`), "v.mpc_custody IS NOT NULL AS s_mpc", "sh.shares AS s_shares", "sp.last_version AS s_last_version"].join(", "),
    joins: `LEFT JOIN LATERAL (SELECT ${FULL} FROM secret_versions WHERE vault_id = v.id AND path = $${path} ${which}) s ON true
      LEFT JOIN LATERAL (
        SELECT json_agg(json_build_object('provider', provider, 'share_index', share_index, 'kek_id', kek_id, 'wrapped_share', encode(wrapped_share, 'base64'))
                        ORDER BY share_index) AS shares
          FROM secret_dek_shares WHERE v.mpc_custody IS NOT NULL AND version_id = s.id) sh ON true
      LEFT JOIN secret_paths sp ON v.mpc_custody IS NOT NULL AND sp.vault_id = v.id AND sp.path = $${path}`,
  };
}

/** The `ReadableVersion` in a row selected with `readableVersionSql`'s columns; undefined when no version matched. */
export function readableFrom(row: Record<string, unknown>): ReadableVersion | undefined {
  if (row.s_id === null || row.s_id === undefined) return undefined;
  const version = Object.fromEntries(FULL_NAMES.map((name) => [name, row[`s_${name}`]])) as unknown as SecretVersionRow;
  const shares = row.s_shares as Array<{ provider: string; share_index: number; kek_id: string; wrapped_share: string }> | null;
  const mpc = row.s_mpc
    ? mpcStateOf(
        version,
        (shares ?? []).map((s) => ({ provider: s.provider, shareIndex: s.share_index, kekId: s.kek_id, wrappedShare: Buffer.from(s.wrapped_share, "base64") })),
      )
    : undefined;
  return { row: version, mpc, lastVersion: (row.s_last_version as number | null) ?? 0 };
}

/** `readableVersionSql` on its own: the version a read names (the newest live one without `version`). */
export async function findReadable(db: Queryable, vaultId: string, path: string, version?: number): Promise<ReadableVersion | undefined> {
  const { columns, joins } = readableVersionSql(2, version === undefined ? undefined : 3);
  const [row] = await db.query(`SELECT ${columns} FROM vaults v ${joins} WHERE v.id = $1`, [vaultId, path, ...(version === undefined ? [] : [version])]);
  return row && readableFrom(row);
}

/** Whether the path ever had a version (to tell "deleted or all disabled" from "never existed"). */
export async function pathExists(db: Queryable, vaultId: string, path: string): Promise<boolean> {
  const rows = await db.query("SELECT 1 FROM secret_versions WHERE vault_id = $1 AND path = $2 LIMIT 1", [vaultId, path]);
  return rows.length > 0;
}

/**
 * Counts one access, atomically: only while the count is under `max_access_count`, so of N concurrent reads
 * of a one-time secret exactly one succeeds.
 */
export async function countAccess(db: Queryable, id: string): Promise<boolean> {
  const rows = await db.query(
    `UPDATE secret_versions SET access_count = access_count + 1
      WHERE id = $1 AND (max_access_count IS NULL OR access_count < max_access_count) RETURNING id`,
    [id],
  );
  return rows.length > 0;
}

/**
 * The newest live version of each path under `prefix` whose path sorts after `after` ('' for all), in path
 * order, at most `limit` of them (null: all). An index range scan of (vault_id, path, version): a page costs
 * the same in a vault of any size.
 */
export async function listLatest(db: Queryable, vaultId: string, prefix: string, after = "", limit: number | null = null): Promise<SecretMetaRow[]> {
  return db.query<SecretMetaRow>(
    `SELECT DISTINCT ON (path) ${META} FROM secret_versions
      WHERE vault_id = $1 AND deleted_at IS NULL AND NOT is_disabled AND starts_with(path, $2) AND path > $3
      ORDER BY path, version DESC LIMIT $4`,
    [vaultId, prefix, after, limit],
  );
}

export async function listVersions(db: Queryable, vaultId: string, path: string): Promise<SecretMetaRow[]> {
  return db.query<SecretMetaRow>(
    `SELECT ${META} FROM secret_versions WHERE vault_id = $1 AND path = $2 AND deleted_at IS NULL ORDER BY version`,
    [vaultId, path],
  );
}

/** Disables a live version; answers its id, or undefined when there is none. */
export async function disableVersion(db: Queryable, vaultId: string, path: string, version: number): Promise<string | undefined> {
  const [row] = await db.query<{ id: string }>(
    "UPDATE secret_versions SET is_disabled = true WHERE vault_id = $1 AND path = $2 AND version = $3 AND deleted_at IS NULL RETURNING id",
    [vaultId, path, version],
  );
  return row?.id;
}

/** Soft-deletes every version of a path; answers the newest one's id, or undefined when none was live. */
export async function softDeletePath(db: Queryable, vaultId: string, path: string): Promise<string | undefined> {
  const [newest] = await db.query<{ id: string }>(
    `WITH deleted AS (
       UPDATE secret_versions SET deleted_at = now()
        WHERE vault_id = $1 AND path = $2 AND deleted_at IS NULL RETURNING id, version)
     SELECT id FROM deleted ORDER BY version DESC LIMIT 1`,
    [vaultId, path],
  );
  return newest?.id;
}

export async function insertShares(db: Queryable, vaultId: string, versionId: string, shares: readonly StoredShare[]): Promise<void> {
  for (const share of shares) {
    await db.query(
      "INSERT INTO secret_dek_shares (version_id, vault_id, provider, share_index, kek_id, wrapped_share) VALUES ($1, $2, $3, $4, $5, $6)",
      [versionId, vaultId, share.provider, share.shareIndex, share.kekId, share.wrappedShare],
    );
  }
}

/** What opens an MPC version's DEK. */
export interface MpcState {
  commitment: Uint8Array;
  layout: VersionLayout;
  shares: StoredShare[];
}

interface MpcStateRow {
  dek_commitment: Uint8Array;
  mpc_generation: number;
  mpc_providers: string[];
  mpc_commitment_providers: string[] | null;
  provider: string | null;
  share_index: number | null;
  kek_id: string | null;
  wrapped_share: Uint8Array | null;
}

/** A version's MPC state from its row's commitment and layout columns (every version of an MPC vault records them) and its shares. */
const mpcStateOf = (version: Pick<SecretVersionRow, "dek_commitment" | "mpc_generation" | "mpc_providers" | "mpc_commitment_providers">, shares: StoredShare[]): MpcState => ({
  commitment: version.dek_commitment,
  layout: { generation: version.mpc_generation!, holders: version.mpc_providers!, commitmentHolders: version.mpc_commitment_providers },
  shares,
});

const toMpcState = (rows: MpcStateRow[]): MpcState =>
  mpcStateOf(
    rows[0]!,
    rows.filter((r) => r.provider !== null).map((r) => ({ provider: r.provider!, shareIndex: r.share_index!, kekId: r.kek_id!, wrappedShare: r.wrapped_share! })),
  );

/**
 * A version's commitment, layout and shares in one statement, so one snapshot: a lifecycle job moving the
 * version meanwhile is seen wholly before or wholly after, never as old binding with new shares.
 */
export async function findMpcState(db: Queryable, versionId: string): Promise<MpcState> {
  const rows = await db.query<MpcStateRow>(
    `SELECT v.dek_commitment, v.mpc_generation, v.mpc_providers, v.mpc_commitment_providers, s.provider, s.share_index, s.kek_id, s.wrapped_share
       FROM secret_versions v LEFT JOIN secret_dek_shares s ON s.version_id = v.id WHERE v.id = $1 ORDER BY s.share_index`,
    [versionId],
  );
  return toMpcState(rows);
}

/** A live MPC version not yet at the vault's current layout generation, with what opens it. */
export interface LaggingVersion extends MpcState {
  id: string;
  path: string;
  version: number;
}

/** Up to `limit` live versions whose shares were made for a layout generation older than `generation`. */
export async function findLaggingVersions(db: Queryable, vaultId: string, generation: number, limit: number): Promise<LaggingVersion[]> {
  const rows = await db.query<MpcStateRow & { id: string; path: string; version: number }>(
    `SELECT v.id, v.path, v.version, v.dek_commitment, v.mpc_generation, v.mpc_providers, v.mpc_commitment_providers,
            s.provider, s.share_index, s.kek_id, s.wrapped_share
       FROM (SELECT * FROM secret_versions WHERE vault_id = $1 AND mpc_generation < $2 AND deleted_at IS NULL ORDER BY id LIMIT $3) v
       LEFT JOIN secret_dek_shares s ON s.version_id = v.id ORDER BY v.id, s.share_index`,
    [vaultId, generation, limit],
  );
  const byId = new Map<string, typeof rows>();
  for (const row of rows) byId.set(row.id, [...(byId.get(row.id) ?? []), row]);
  return [...byId.values()].map((group) => ({ id: group[0]!.id, path: group[0]!.path, version: group[0]!.version, ...toMpcState(group) }));
}

export async function countLaggingVersions(db: Queryable, vaultId: string, generation: number): Promise<number> {
  const [row] = await db.query<{ total: number }>(
    "SELECT count(*)::int AS total FROM secret_versions WHERE vault_id = $1 AND mpc_generation < $2 AND deleted_at IS NULL",
    [vaultId, generation],
  );
  return row?.total ?? 0;
}

/** Live versions of an MPC vault (what a lifecycle job has to move). */
export async function countLiveMpcVersions(db: Queryable, vaultId: string): Promise<number> {
  const [row] = await db.query<{ total: number }>("SELECT count(*)::int AS total FROM secret_versions WHERE vault_id = $1 AND deleted_at IS NULL", [vaultId]);
  return row?.total ?? 0;
}

/**
 * Replaces a version's shares, commitment and layout, if they are still what the caller moved from (its
 * generation and its stored shares): the version row is locked first, so of two concurrent moves of one
 * version the second sees the first's shares and answers false.
 */
export async function replaceMpcState(tx: Queryable, versionId: string, from: MpcState, to: MpcState): Promise<boolean> {
  const [locked] = await tx.query<{ vault_id: string; mpc_generation: number }>("SELECT vault_id, mpc_generation FROM secret_versions WHERE id = $1 FOR UPDATE", [versionId]);
  if (!locked || locked.mpc_generation !== from.layout.generation) return false;
  const current = await tx.query<{ wrapped_share: Uint8Array }>("SELECT wrapped_share FROM secret_dek_shares WHERE version_id = $1 ORDER BY share_index", [versionId]);
  const same = current.length === from.shares.length && current.every((row, i) => Buffer.from(row.wrapped_share).equals(from.shares[i]!.wrappedShare));
  if (!same) return false;
  await tx.query(
    "UPDATE secret_versions SET dek_commitment = $2, mpc_generation = $3, mpc_providers = $4, mpc_commitment_providers = $5 WHERE id = $1",
    [versionId, to.commitment, to.layout.generation, to.layout.holders, to.layout.commitmentHolders],
  );
  await tx.query("DELETE FROM secret_dek_shares WHERE version_id = $1", [versionId]);
  await insertShares(tx, locked.vault_id, versionId, to.shares);
  return true;
}

/** Crypto-shreds soft-deleted versions a lifecycle job left behind: without shares nothing opens them. */
export async function shredLaggingDeleted(db: Queryable, vaultId: string, generation: number): Promise<void> {
  await db.query(
    `DELETE FROM secret_dek_shares WHERE version_id IN
       (SELECT id FROM secret_versions WHERE vault_id = $1 AND mpc_generation < $2 AND deleted_at IS NOT NULL)`,
    [vaultId, generation],
  );
}

/** A live version of a plain vault, with what unwraps its DEK. */
export interface WrappedVersionRow {
  id: string;
  path: string;
  version: number;
  dek_commitment: Uint8Array;
  wrapped_dek: Uint8Array;
  kek_slot: string;
  kek_id: string;
}

/** Every live version whose DEK is wrapped by a single KEK (what enabling MPC re-protects). */
export async function findWrappedVersions(db: Queryable, vaultId: string): Promise<WrappedVersionRow[]> {
  return db.query<WrappedVersionRow>(
    `SELECT id, path, version, dek_commitment, wrapped_dek, kek_slot, kek_id FROM secret_versions
      WHERE vault_id = $1 AND deleted_at IS NULL AND wrapped_dek IS NOT NULL ORDER BY path, version`,
    [vaultId],
  );
}

/** A version's DEK now lives in shares (inserted beside it): its single wrapped DEK goes, its commitment changes. */
export async function moveToShares(db: Queryable, versionId: string, commitment: Uint8Array, layout: VersionLayout): Promise<void> {
  await db.query(
    "UPDATE secret_versions SET dek_commitment = $2, wrapped_dek = NULL, kek_slot = NULL, kek_id = NULL, mpc_generation = $3, mpc_providers = $4 WHERE id = $1",
    [versionId, commitment, layout.generation, layout.holders],
  );
}

/** Crypto-shreds a vault's soft-deleted versions: without their wrapped DEK nothing opens them. */
export async function shredDeleted(db: Queryable, vaultId: string): Promise<void> {
  await db.query("UPDATE secret_versions SET wrapped_dek = NULL WHERE vault_id = $1 AND deleted_at IS NOT NULL", [vaultId]);
}

/** A live version sealed under a CMEK key, with what recovers its DEK. */
export type CmekVersionRow = Pick<SecretVersionRow, "id" | "path" | "version" | "ciphertext" | "dek_commitment" | "wrapped_dek" | "kek_slot" | "kek_id">;

/** Up to `limit` live versions still sealed under the CMEK key with this fingerprint. */
export async function findCmekVersions(db: Queryable, vaultId: string, fingerprint: string, limit: number): Promise<CmekVersionRow[]> {
  return db.query<CmekVersionRow>(
    `SELECT id, path, version, ciphertext, dek_commitment, wrapped_dek, kek_slot, kek_id FROM secret_versions
      WHERE vault_id = $1 AND cmek_fingerprint = $2 AND deleted_at IS NULL ORDER BY path, version LIMIT $3`,
    [vaultId, fingerprint, limit],
  );
}

export async function countCmekVersions(db: Queryable, vaultId: string, fingerprint: string): Promise<number> {
  const [row] = await db.query<{ total: number }>(
    "SELECT count(*)::int AS total FROM secret_versions WHERE vault_id = $1 AND cmek_fingerprint = $2 AND deleted_at IS NULL",
    [vaultId, fingerprint],
  );
  return row?.total ?? 0;
}

/** Replaces a version's ciphertext re-encrypted to another CMEK key; false when it is no longer under `from`. */
export async function replaceCmekCiphertext(db: Queryable, versionId: string, ciphertext: Uint8Array, from: string, to: string): Promise<boolean> {
  const rows = await db.query("UPDATE secret_versions SET ciphertext = $2, cmek_fingerprint = $3 WHERE id = $1 AND cmek_fingerprint = $4 RETURNING id", [
    versionId,
    ciphertext,
    to,
    from,
  ]);
  return rows.length > 0;
}

/** The highest version number ever reserved for a path. */
export async function lastVersion(db: Queryable, vaultId: string, path: string): Promise<number> {
  const [row] = await db.query<{ last_version: number }>("SELECT last_version FROM secret_paths WHERE vault_id = $1 AND path = $2", [vaultId, path]);
  return row?.last_version ?? 0;
}
