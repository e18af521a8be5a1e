/**
 * Versioned secrets. A write reserves its version number first (its own short transaction), then seals the
 * value and wraps the DEK (or its shares) at the providers with no transaction open, then inserts the
 * version, its shares and its audit event in one transaction. A failed write leaves a gap in the numbering,
 * never a duplicate and never half a row.
 */
import { randomUUID } from "node:crypto";
import { wipe } from "@shardvault/crypto";
import type { Principal } from "../auth/principal.js";
import type { Limits } from "../config/env.js";
import type { Database } from "../db/database.js";
import {
  currentLayout,
  openVersion,
  sameProtection,
  sealedForClient,
  sealVersion,
  vaultProtection,
  type SealedForClient,
  type StoredVersion,
  type VaultProtection,
} from "../envelope/protection.js";
import { checkClientShare } from "../envelope/client-share-check.js";
import { acceptClientSealed } from "../envelope/client-sealed.js";
import { ENVELOPE_FORMAT } from "../envelope/contexts.js";
import { noClientReconstruction, wrapParts } from "../envelope/mpc.js";
import type { SealedWrite, SealTarget } from "@shardvault/api";
import { clientCustody } from "../envelope/custody-modes.js";
import type { LatencyTracker } from "../envelope/latency.js";
import type { CorruptShareEvent } from "../health/health-monitor.js";
import type { AuditAction, AuditLog } from "../audit/audit.js";
import { AppError, badRequest, conflict, gone, notFound, tooLarge } from "../errors.js";
import type { ProviderRegistry } from "../providers/registry.js";
import { findVaultById, type VaultRow } from "../vaults/vault-queries.js";
import type { VaultService } from "../vaults/vault-service.js";
import { isUuid } from "../ids.js";
import { nestsDeeperThan } from "../json-depth.js";
import { futureExpiry } from "../times.js";
import { checkCmekValue } from "../cmek/cmek-format.js";
import { generateValue, type Charset } from "./generate.js";
import { decodeListCursor, encodeListCursor } from "./list-cursor.js";
import * as q from "./secret-queries.js";

/** What a write sets besides the value. */
export interface VersionFields {
  type?: string;
  metadata?: Record<string, unknown>;
  expires_at?: string;
  max_access_count?: number;
}

export interface WriteInput extends VersionFields {
  value: Buffer;
}

/** A client-sealed write (client-side reconstruction): the value sealed by the client, never seen here. */
export interface SealedWriteInput extends VersionFields {
  sealed: SealedWrite;
}

/** A new version's row from who wrote what, where, and how it was sealed. */
function versionRow(
  w: { id: string; vault: VaultRow; path: string; version: number; principal: Principal; input: VersionFields; expiresAt: Date | null },
  sealed: Pick<StoredVersion, "ciphertext" | "commitment" | "wrappedDek" | "kekSlot" | "kekId">,
): q.NewVersion {
  return {
    id: w.id,
    vault_id: w.vault.id,
    path: w.path,
    version: w.version,
    type: w.input.type ?? "generic",
    metadata: w.input.metadata ?? null,
    ciphertext: sealed.ciphertext,
    dek_commitment: sealed.commitment,
    wrapped_dek: sealed.wrappedDek,
    kek_slot: sealed.kekSlot,
    kek_id: sealed.kekId,
    expires_at: w.expiresAt,
    max_access_count: w.input.max_access_count ?? null,
    created_by: w.principal.id,
    created_by_type: w.principal.type,
    cmek_fingerprint: w.vault.cmek_fingerprint,
  };
}

export interface SecretMeta {
  id: string;
  path: string;
  type: string;
  version: number;
  created_at: string;
  metadata?: Record<string, unknown>;
  expires_at?: string;
  is_disabled?: boolean;
}

export interface SecretWritten extends SecretMeta {
  /** Client-custody vaults: the client's share, returned exactly once and never stored. */
  client_share?: string;
}

/**
 * A read: the plaintext as bytes (the HTTP layer turns it into the response and wipes it), or, for a
 * client-side reconstruction, what the client needs to open it with its own share.
 */
export type ValueRead = ReadMeta & { value: Buffer };
export type SealedRead = ReadMeta & { sealed: SealedForClient };
export type SecretRead = ValueRead | SealedRead;
type ReadMeta = SecretMeta & { created_by: string; cmek_encrypted: boolean };

/** How a read names its version and how the value is to be rebuilt: by the server with `clientShare`, or by the client. */
export interface ReadOptions {
  version?: number;
  clientShare?: string;
  reconstruct?: "client";
}


function toMeta(row: q.SecretMetaRow): SecretMeta {
  return {
    id: row.id,
    path: row.path,
    type: row.type,
    version: row.version,
    created_at: new Date(row.created_at).toISOString(),
    ...(row.metadata ? { metadata: row.metadata } : {}),
    ...(row.expires_at ? { expires_at: new Date(row.expires_at).toISOString() } : {}),
    ...(row.is_disabled ? { is_disabled: true } : {}),
  };
}

/** Wipes what a read answers: the plaintext, or the unwrapped server shares of a client-side read. */
export function wipeAnswer(answer: { value: Buffer } | { sealed: SealedForClient }): void {
  if ("value" in answer) wipe(answer.value);
  else wipe(...answer.sealed.serverShares.map((s) => s.share));
}

/** The metadata object itself is level 1. */
const METADATA_MAX_DEPTH = 32;

/** How many times a write is sealed when a lifecycle job changes the vault's MPC layout under it. */
const MAX_WRITE_ATTEMPTS = 3;

/** The vault is still MPC in the same mode, but a lifecycle job moved it to another layout (KEKs or slots). */
const relaidOut = (p: VaultProtection, vault: VaultRow): boolean =>
  p.kind === "mpc" && vault.mpc_custody === p.vault.mode.name && !sameProtection(p, vault);

export type SecretService = ReturnType<typeof createSecretService>;

export function createSecretService(deps: {
  db: Database;
  providers: ProviderRegistry;
  vaults: VaultService;
  limits: Limits;
  latency: LatencyTracker;
  audit: AuditLog;
  reportCorruptShare(event: CorruptShareEvent): void;
}) {
  const { db, providers, vaults, limits } = deps;

  function checkWrite(input: WriteInput): Date | null {
    if (input.value.length > limits.maxValueBytes) {
      throw tooLarge("value_too_large", `the value is larger than ${limits.maxValueBytes} bytes`);
    }
    return checkVersionFields(input);
  }

  /** Checks a write's metadata and expiry (whoever sealed its value); answers the expiry. */
  function checkVersionFields(input: VersionFields): Date | null {
    // Depth first: serialising a deeply nested value to measure its size would overflow the stack.
    if (input.metadata !== undefined && nestsDeeperThan(input.metadata, METADATA_MAX_DEPTH)) {
      throw badRequest("metadata_invalid", `metadata may be nested at most ${METADATA_MAX_DEPTH} levels deep`);
    }
    if (input.metadata !== undefined && Buffer.byteLength(JSON.stringify(input.metadata)) > limits.maxMetadataBytes) {
      throw tooLarge("metadata_too_large", `metadata is larger than ${limits.maxMetadataBytes} bytes`);
    }
    return input.expires_at === undefined ? null : futureExpiry(input.expires_at);
  }

  async function write(principal: Principal, vaultId: string, path: string, input: WriteInput, action: AuditAction = "secret.write"): Promise<SecretWritten> {
    const expiresAt = checkWrite(input);
    const vault = await vaults.require(principal, vaultId, { permission: action === "secret.rotate" ? "rotate" : "write", path });
    // In a CMEK vault the client has encrypted the value itself; the server checks its shape only.
    if (vault.cmek_fingerprint) checkCmekValue(input.value.toString("latin1"));
    const { version, mpcKeks } = await q.reserveVersion(db, vault.id, path);
    let protection = await vaultProtection(db, providers, vault, "write", mpcKeks);
    // The vault row the version is sealed under: the write stores it only while the row's protection is unchanged.
    let sealedUnder = vault;
    const id = randomUUID();
    const ref = { vaultId: vault.id, path, version };
    const event = { action, resourceType: "secret", resourceId: id, details: { vault_id: vault.id, path, version } } as const;
    // A vault whose MPC layout changed meanwhile (a lifecycle job started) is sealed for again under the new
    // layout, so no version written under a layout a job has moved past ever commits.
    for (let attempt = 1; ; attempt++) {
      let sealed: Awaited<ReturnType<typeof sealVersion>>;
      try {
        sealed = await sealVersion(protection, providers, ref, input.value);
      } catch (error) {
        // A job may have switched the layout and already disabled the KEKs this seal was using.
        const current = attempt < MAX_WRITE_ATTEMPTS ? await findVaultById(db, vault.id) : undefined;
        if (!current || !relaidOut(protection, current)) throw error;
        protection = await vaultProtection(db, providers, current, "write");
        sealedUnder = current;
        continue;
      }
      const row = versionRow({ id, vault, path, version, principal, input, expiresAt }, sealed);
      // One statement: the vault row locked FOR SHARE (enabling MPC and starting a lifecycle job, FOR UPDATE, wait
      // for this write) and checked unchanged, the version, its shares and its audit event.
      const outcome = await deps.audit.recordWith(principal, event, q.versionChange(row, sealed.layout, sealed.shares, sealedUnder));
      const answer = outcome.answer as q.VersionChangeAnswer;
      if (outcome.stored) return { ...toMeta(answer.version!), ...(sealed.clientShare ? { client_share: sealed.clientShare } : {}) };
      const locked = answer.vault;
      if (!locked) throw notFound("vault_not_found", `vault ${vaultId} not found`);
      if (locked.cmek_fingerprint !== vault.cmek_fingerprint || attempt >= MAX_WRITE_ATTEMPTS) {
        throw conflict("vault_protection_changed", "the vault's protection changed during this write; retry it");
      }
      if (!sameProtection(protection, locked)) {
        if (!relaidOut(protection, locked)) throw conflict("vault_protection_changed", "the vault's protection changed during this write; retry it");
        protection = await vaultProtection(db, providers, locked, "write");
      }
      sealedUnder = locked;
    }
  }

  /** The vault's client-custody layout (without its KEKs), for client-side reconstruction; 400 in any other vault. */
  async function clientSealing(vault: VaultRow) {
    const protection = await vaultProtection(db, providers, vault, "read");
    if (protection.kind !== "mpc" || !protection.vault.mode.clientHoldsShare) throw noClientReconstruction();
    return protection;
  }

  /** What a client seals a new version for: the version number it may claim and the vault's current layout. */
  async function sealTarget(principal: Principal, vaultId: string, path: string): Promise<SealTarget> {
    const vault = await vaults.require(principal, vaultId, { permission: "write", path });
    const { mode, holders } = (await clientSealing(vault)).vault;
    const version = (await q.lastVersion(db, vault.id, path)) + 1;
    return { format: ENVELOPE_FORMAT, vault_id: vault.id, path, version, custody: mode.name, scheme: mode.scheme, threshold: mode.threshold, providers: [...holders] };
  }

  /**
   * Stores a version the client sealed itself: the server shares wrapped at their slots, the sealed value and
   * the commitment as given. Only under the version number and the holders it was sealed for (409 otherwise:
   * the client seals again for a new target); no retry here, since only the client can seal again.
   */
  async function writeSealed(principal: Principal, vaultId: string, path: string, input: SealedWriteInput): Promise<SecretWritten> {
    const expiresAt = checkVersionFields(input);
    const vault = await vaults.require(principal, vaultId, { permission: "write", path });
    // The vault's layout from its row (the KEKs come with the version claim); bad input fails before a number is claimed.
    const sealing = await clientSealing(vault);
    const { ciphertext, commitment, parts } = acceptClientSealed(sealing.vault, input.sealed, limits.maxValueBytes);
    const { version } = input.sealed;
    const id = randomUUID();
    let shares;
    try {
      const keks = await q.claimVersion(db, vault.id, path, version);
      if (!keks) throw conflict("version_conflict", `version ${version} of ${path} is taken or not the next one: get a new seal target and seal again`);
      shares = await wrapParts({ ...sealing.vault, keks }, providers, { vaultId: vault.id, path, version }, parts);
    } finally {
      wipe(...parts);
    }
    const row = versionRow({ id, vault, path, version, principal, input, expiresAt }, { ciphertext, commitment, wrappedDek: null, kekSlot: null, kekId: null });
    const event = { action: "secret.write", resourceType: "secret", resourceId: id, details: { vault_id: vault.id, path, version, reconstruct: "client" } } as const;
    const outcome = await deps.audit.recordWith(principal, event, q.versionChange(row, currentLayout(sealing), shares, vault));
    const answer = outcome.answer as q.VersionChangeAnswer;
    if (outcome.stored) return toMeta(answer.version!);
    if (!answer.vault) throw notFound("vault_not_found", `vault ${vaultId} not found`);
    throw conflict("layout_changed", "the vault's protection changed during this write: get a new seal target and seal again");
  }

  /** Reads a value; every read is audited, refused ones too (with the refusal's code). */
  async function read(principal: Principal, vaultId: string, path: string, opts: ReadOptions & { reconstruct?: undefined }): Promise<ValueRead>;
  async function read(principal: Principal, vaultId: string, path: string, opts: ReadOptions): Promise<SecretRead>;
  async function read(principal: Principal, vaultId: string, path: string, opts: ReadOptions): Promise<SecretRead> {
    try {
      return await readFrom(principal, await vaults.require(principal, vaultId, { permission: "read", path }), path, opts);
    } catch (error) {
      // Refused for any reason, a vault the principal may not use included. Only a well-formed id is
      // recorded: the log must not fail on (or store) whatever a caller put in the URL.
      const reason = error instanceof AppError ? error.code : "internal_error";
      const recordedId = isUuid(vaultId) ? vaultId.toLowerCase() : "(not a vault id)";
      await deps.audit.record(principal, {
        action: "secret.read_refused",
        resourceType: "secret",
        resourceId: recordedId,
        details: { vault_id: recordedId, path, ...(opts.version === undefined ? {} : { version: opts.version }), reason },
      });
      throw error;
    }
  }

  /** Why a version may not be read now (deleted, disabled, expired, at its access limit: 410), or undefined. */
  function unreadable(row: q.SecretVersionRow): AppError | undefined {
    if (row.deleted_at) return gone("secret_deleted", `secret ${row.path} was deleted`);
    if (row.is_disabled) return gone("version_disabled", `version ${row.version} of ${row.path} is disabled`);
    if (row.expires_at && new Date(row.expires_at).getTime() <= Date.now()) return gone("secret_expired", `secret ${row.path} has expired`);
    if (row.max_access_count !== null && row.access_count >= row.max_access_count) {
      return gone("access_limit_reached", `secret ${row.path} has reached its maximum access count`);
    }
    return undefined;
  }

  /** A version row's stored protection, with its MPC state (shares and layout) when it has one. */
  const storedOf = (row: q.SecretVersionRow, mpc: q.MpcState | undefined): StoredVersion => ({
    ciphertext: row.ciphertext,
    commitment: row.dek_commitment,
    wrappedDek: row.wrapped_dek,
    kekSlot: row.kek_slot,
    kekId: row.kek_id,
    shares: [],
    ...mpc,
  });

  const quorumFor = (vault: VaultRow, row: q.SecretVersionRow) => ({
    latency: deps.latency,
    onCorruptShare: (slot: string) => deps.reportCorruptShare({ slot, vaultId: vault.id, path: row.path, version: row.version }),
  });

  /**
   * Opens a version's value; client-share errors are decided before any provider is called. The caller wipes it.
   * `loaded`: the version's MPC state and its path's last version, when the read loaded them with the row.
   */
  async function openRow(vault: VaultRow, row: q.SecretVersionRow, given: string | undefined, loaded?: Pick<q.ReadableVersion, "mpc" | "lastVersion">): Promise<Buffer> {
    const ref = { vaultId: vault.id, path: row.path, version: row.version };
    const protection = await vaultProtection(db, providers, vault, "read");
    const pendingMpc = protection.kind !== "mpc" ? Promise.resolve(undefined) : loaded ? Promise.resolve(loaded.mpc) : q.findMpcState(db, row.id);
    pendingMpc.catch(() => undefined); // awaited below, unless a client-share error ends the read first
    const clientShare =
      protection.kind === "mpc" && protection.vault.mode.clientHoldsShare
        ? await checkClientShare(given, protection.vault.mode, ref, loaded ? loaded.lastVersion : await q.lastVersion(db, vault.id, row.path))
        : undefined;
    const stored = storedOf(row, await pendingMpc);
    return openVersion(protection, providers, ref, stored, { ...quorumFor(vault, row), ...(clientShare ? { clientShare } : {}) }).finally(
      () => clientShare && wipe(clientShare.share),
    );
  }

  /** A version as a client-side reconstruction reads it: never its value, and never a client share. */
  async function sealRow(vault: VaultRow, row: q.SecretVersionRow, loaded?: Pick<q.ReadableVersion, "mpc">): Promise<SealedForClient> {
    const protection = await vaultProtection(db, providers, vault, "read");
    const mpc = protection.kind !== "mpc" ? undefined : loaded ? loaded.mpc : await q.findMpcState(db, row.id);
    return sealedForClient(protection, providers, { vaultId: vault.id, path: row.path, version: row.version }, storedOf(row, mpc), quorumFor(vault, row));
  }

  /** The version a read names: as loaded with the caller's credentials when the route asked for it, else queried. */
  async function readable(principal: Principal, vault: VaultRow, path: string, version: number | undefined): Promise<q.ReadableVersion | undefined> {
    const loaded = principal.loaded;
    if (loaded?.vault?.id === vault.id && loaded.secret?.path === path && loaded.secret.version === version) return loaded.secret.found;
    return q.findReadable(db, vault.id, path, version);
  }

  async function readFrom(principal: Principal, vault: VaultRow, path: string, opts: ReadOptions): Promise<SecretRead> {
    const { version } = opts;
    const found = await readable(principal, vault, path, version);
    if (!found) {
      if (version === undefined && (await q.pathExists(db, vault.id, path))) {
        throw gone("secret_unavailable", `secret ${path} has no live version (deleted or disabled)`);
      }
      throw notFound("secret_not_found", version === undefined ? `secret ${path} not found` : `secret ${path} version ${version} not found`);
    }
    const { row } = found;
    const refusal = unreadable(row);
    if (refusal) throw refusal;
    const answer = opts.reconstruct === "client" ? { sealed: await sealRow(vault, row, found) } : { value: await openRow(vault, row, opts.clientShare, found) };
    const details = { vault_id: vault.id, path, version: row.version, ...(opts.reconstruct ? { reconstruct: opts.reconstruct } : {}) };
    const event = { action: "secret.read", resourceType: "secret", resourceId: row.id, details } as const;
    try {
      if (row.max_access_count === null) {
        await deps.audit.record(principal, event);
      } else {
        await db.transaction(async (tx) => {
          // Counted only for reads that return a value (or, client-side, the shares to open it), after it opened.
          if (!(await q.countAccess(tx, row.id))) throw gone("access_limit_reached", `secret ${path} has reached its maximum access count`);
          await deps.audit.recordIn(tx, principal, event);
        });
      }
    } catch (error) {
      wipeAnswer(answer);
      throw error;
    }
    return { ...toMeta(row), created_by: row.created_by, cmek_encrypted: row.cmek_fingerprint !== null, ...answer };
  }

  return {
    write,
    sealTarget,
    writeSealed,
    read,

    /**
     * The version a share of `versionId` (a secret's `id`) would serve: that version, in a vault of the caller's
     * organization, if the caller may read its path and it is readable now.
     */
    async shareable(principal: Principal, versionId: string): Promise<{ vault: VaultRow; meta: SecretMeta; cmekEncrypted: boolean }> {
      const row = isUuid(versionId) ? await q.findVersionById(db, principal.orgId, versionId.toLowerCase()) : undefined;
      if (!row) throw notFound("secret_not_found", `secret ${versionId} not found`);
      const vault = await vaults.require(principal, row.vault_id, { permission: "read", path: row.path });
      const refusal = unreadable(row);
      if (refusal) throw refusal;
      return { vault, meta: toMeta(row), cmekEncrypted: row.cmek_fingerprint !== null };
    },

    /**
     * A shared version, for the share service (which decided who may have it and records the access), while it
     * can still be read: whether its reads are limited (the share service then counts this one on the version
     * too, in its transaction: `countAccess`), whether its vault now gives the client a share, and its value
     * through the envelope (without a client share).
     */
    async sharedVersion(orgId: string, versionId: string): Promise<{ limited: boolean; clientCustody: boolean; open(): Promise<Buffer> } | undefined> {
      const row = await q.findVersionById(db, orgId, versionId);
      const vault = row && (await findVaultById(db, row.vault_id));
      if (!row || !vault || unreadable(row)) return undefined;
      return { limited: row.max_access_count !== null, clientCustody: clientCustody(vault.mpc_custody), open: () => openRow(vault, row, undefined) };
    },

    async rotateGenerate(principal: Principal, vaultId: string, path: string, opts: { length?: number; charset?: Charset; type?: string }) {
      const vault = await vaults.require(principal, vaultId, { permission: "rotate", path });
      if (vault.cmek_fingerprint) {
        throw conflict("cmek_generate_unsupported", "this vault uses CMEK: the server cannot encrypt a generated value with your key; generate and encrypt it client-side");
      }
      const value = generateValue(opts.length ?? 32, opts.charset ?? "hex");
      try {
        return await write(principal, vaultId, path, { value, type: opts.type ?? "generic" }, "secret.rotate");
      } finally {
        wipe(value);
      }
    },

    /**
     * The latest version of each path under `prefix` that the caller may read, in path order: all of them, or
     * with `limit` a page of at most that many and a cursor while more follow. Paths the caller's policies hide
     * are skipped, never counted, never named by a cursor (it names the page's last shown path).
     */
    async list(principal: Principal, vaultId: string, prefix: string, page: { limit?: number; cursor?: string } = {}): Promise<{ secrets: SecretMeta[]; next_cursor?: string }> {
      const { vault, standing } = await vaults.authorize(principal, vaultId, "view");
      let after = page.cursor === undefined ? "" : decodeListCursor(page.cursor);
      const readable = (row: q.SecretMetaRow) => standing.decide("read", row.path).allowed;
      if (page.limit === undefined) return { secrets: (await q.listLatest(db, vault.id, prefix, after)).filter(readable).map(toMeta) };
      // One more than the page, to know whether another follows; batches again while hidden paths leave it short.
      const wanted = page.limit + 1;
      const shown: q.SecretMetaRow[] = [];
      for (;;) {
        const batch = await q.listLatest(db, vault.id, prefix, after, wanted);
        shown.push(...batch.filter(readable).slice(0, wanted - shown.length));
        if (shown.length === wanted || batch.length < wanted) break;
        after = batch.at(-1)!.path;
      }
      const secrets = shown.slice(0, page.limit);
      return { secrets: secrets.map(toMeta), ...(shown.length > page.limit ? { next_cursor: encodeListCursor(secrets.at(-1)!.path) } : {}) };
    },

    async versions(principal: Principal, vaultId: string, path: string): Promise<SecretMeta[]> {
      const vault = await vaults.require(principal, vaultId, { permission: "read", path });
      const rows = await q.listVersions(db, vault.id, path);
      if (rows.length === 0) throw notFound("secret_not_found", `secret ${path} not found`);
      return rows.map(toMeta);
    },

    async disableVersion(principal: Principal, vaultId: string, path: string, version: number): Promise<void> {
      const vault = await vaults.require(principal, vaultId, { permission: "write", path });
      await db.transaction(async (tx) => {
        const versionId = await q.disableVersion(tx, vault.id, path, version);
        if (!versionId) throw notFound("secret_not_found", `secret ${path} version ${version} not found`);
        await deps.audit.recordIn(tx, principal, {
          action: "secret.version_disable",
          resourceType: "secret",
          resourceId: versionId,
          details: { vault_id: vault.id, path, version },
        });
      });
    },

    async remove(principal: Principal, vaultId: string, path: string): Promise<void> {
      const vault = await vaults.require(principal, vaultId, { permission: "delete", path });
      await db.transaction(async (tx) => {
        const newestId = await q.softDeletePath(tx, vault.id, path);
        if (!newestId) throw notFound("secret_not_found", `secret ${path} not found`);
        await deps.audit.recordIn(tx, principal, { action: "secret.delete", resourceType: "secret", resourceId: newestId, details: { vault_id: vault.id, path } });
      });
    },
  };
}
