/**
 * Client shares kept by the command line. A client-custody vault's server never stores the client share of a
 * version; every read needs it. The CLI keeps them in a **share file**:
 *
 *   [ { "path": "db/password", "version": 2, "client_share": "AQEC…" }, … ]
 *
 * a JSON list, one entry per secret version, written with mode 0600 by `--client-share-out FILE` (a write adds
 * its entry; entries of other paths and versions stay, so no share is ever dropped). Reads take the entry of
 * the path (and version, when one is asked for; else the highest version listed). A file holding one bare
 * share (as printed by a write) serves every read that is given it. Without a file, SHARDVAULT_CLIENT_SHARE
 * (else ONECLAW_CLIENT_SHARE) is that one share.
 *
 * Client-side reconstruction is the CLI's default in client-custody vaults: reads with a client share rebuild
 * the value here (`X-Reconstruct: client`) and writes seal it here, so the share, the value and its key never
 * reach the server. `--reconstruct server` sends the share (reads) or the value (writes) as 1claw's clients do.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { Reconstruct, Secret, SecretWritten, ShardvaultClient, ShardvaultError, ShardvaultResponse, WriteSecretBody } from "@shardvault/sdk";
import { CliError, EXIT, usageError } from "./errors.js";
import { readFileValue } from "./input.js";

export interface ShareEntry {
  path: string;
  version: number;
  client_share: string;
}

export interface ClientShares {
  /** The share to send when reading `path` (at `version`), if any. */
  forPath(path: string, version?: number): string | undefined;
  /** Where the shares come from, in the words a user typed (`--client-share-file F`, an environment variable). */
  source: string | undefined;
}

const isEntry = (value: unknown): value is ShareEntry => {
  const entry = value as ShareEntry;
  return typeof entry === "object" && entry !== null && typeof entry.path === "string" && Number.isSafeInteger(entry.version) && typeof entry.client_share === "string";
};

/** The entries of a share file's text, or undefined when the text is not a share list. */
function parseShareList(text: string): ShareEntry[] | undefined {
  if (!text.trimStart().startsWith("[")) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) && parsed.every(isEntry) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The shares for reads: `--client-share-file`, else SHARDVAULT_CLIENT_SHARE, else ONECLAW_CLIENT_SHARE. */
export function clientSharesFrom(file: string | undefined, env: NodeJS.ProcessEnv): ClientShares {
  if (file !== undefined) {
    const text = readFileValue(file, "the client shares");
    const source = `--client-share-file ${file}`;
    const entries = parseShareList(text);
    if (entries) return { source, forPath: (path, version) => pick(entries, path, version) };
    if (text.trimStart().startsWith("[")) throw new CliError(`${file} is not a share file: a JSON list of { path, version, client_share }`, EXIT.ERROR);
    const share = text.trim();
    return { source, forPath: () => share };
  }
  for (const name of ["SHARDVAULT_CLIENT_SHARE", "ONECLAW_CLIENT_SHARE"]) {
    const share = env[name]?.trim();
    if (share) return { source: name, forPath: () => share };
  }
  return { source: undefined, forPath: () => undefined };
}

function pick(entries: ShareEntry[], path: string, version: number | undefined): string | undefined {
  const candidates = entries.filter((e) => e.path === path && (version === undefined || e.version === version));
  candidates.sort((a, b) => b.version - a.version);
  return candidates[0]?.client_share;
}

/** The entries already in `file` (none when it does not exist); refuses a file that is something else. */
function existingEntries(file: string): ShareEntry[] {
  if (file === "") throw usageError("--client-share-out needs a file name");
  if (!existsSync(file)) return [];
  const entries = parseShareList(readFileValue(file, "the share file"));
  if (!entries) throw new CliError(`${file} exists and is not a share file: it is left as it is; name another file for the client shares`, EXIT.ERROR);
  return entries;
}

/** Checked before a write that returns shares, so that they can be recorded once the answer is in. */
export function checkShareFile(file: string): void {
  existingEntries(file);
}

/** Adds `entries` to the share file (replacing an entry of the same path and version), atomically, mode 0600. */
export function recordShares(file: string, entries: readonly ShareEntry[]): void {
  const kept = existingEntries(file).filter((old) => !entries.some((e) => e.path === old.path && e.version === old.version));
  const all = [...kept, ...entries.map(({ path, version, client_share }) => ({ path, version, client_share }))];
  all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.version - b.version));
  const temp = `${file}.${process.pid}.tmp`;
  rmSync(temp, { force: true });
  writeFileSync(temp, JSON.stringify(all, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  renameSync(temp, file);
}

/** How a user of the command line gives client shares. */
export const CLI_SHARE_HELP = "give it with --client-share-file FILE (the share file --client-share-out wrote) or SHARDVAULT_CLIENT_SHARE";

/** `--reconstruct client|server`; undefined when not given (client-side wherever the vault allows it). */
export function reconstructOption(value: string | undefined): Reconstruct | undefined {
  if (value === undefined || value === "client" || value === "server") return value;
  throw usageError("--reconstruct is client or server");
}

/** The server's answer when a vault is not client custody: nothing was read or written, so the ordinary way is next. */
const notClientCustody = (answer: ShardvaultResponse<unknown>) => answer.error?.code === "client_reconstruction_unavailable";

/**
 * Reads `path` (at `version`) with the client share `shares` has for it, rebuilt here unless `reconstruct` is
 * `server`. A share given for a vault that turns out not to be client custody is not needed: the value is then
 * read the ordinary way, without it.
 */
export async function readSecret(
  sdk: ShardvaultClient,
  vault: string,
  path: string,
  shares: ClientShares,
  { version, reconstruct }: { version?: number | undefined; reconstruct?: Reconstruct | undefined } = {},
): Promise<ShardvaultResponse<Secret>> {
  const clientShare = shares.forPath(path, version);
  const at = version !== undefined ? { version } : {};
  if (clientShare === undefined) return sdk.secrets.get(vault, path, at);
  if (reconstruct === "server") return sdk.secrets.get(vault, path, { ...at, clientShare });
  const rebuilt = await sdk.secrets.get(vault, path, { ...at, clientShare, reconstruct: "client" });
  return notClientCustody(rebuilt) ? sdk.secrets.get(vault, path, at) : rebuilt;
}

/**
 * Writes a version, sealed here unless `reconstruct` is `server`. Whether the vault is client custody is the
 * server's to say: the seal target is refused (400 client_reconstruction_unavailable) before anything is written,
 * with the very permission the write needs, and then the value is written the ordinary way. (Looking the vault's
 * mode up first would need vaults:read, which scoped keys and agents may lack, and a list of which modes hold a
 * client share.)
 */
export async function writeSecret(sdk: ShardvaultClient, vault: string, path: string, body: WriteSecretBody, reconstruct?: Reconstruct): Promise<ShardvaultResponse<SecretWritten>> {
  if (reconstruct === "server") return sdk.secrets.put(vault, path, body);
  const sealed = await sdk.secrets.put(vault, path, body, { reconstruct: "client" });
  return notClientCustody(sealed) ? sdk.secrets.put(vault, path, body) : sealed;
}

/**
 * A client-share refusal said in the caller's words: the server speaks of its X-Client-Share header, a user of
 * the command line gave a file or an environment variable. `howToGive` says how to give shares; undefined for
 * errors that are not about the client share.
 */
export function shareProblem(error: ShardvaultError, path: string, shares: ClientShares, howToGive: string): string | undefined {
  const sent = shares.forPath(path) !== undefined;
  const from = `the client share from ${shares.source}`;
  switch (error.code) {
    case "client_share_required":
      return shares.source !== undefined && !sent
        ? `${shares.source} has no client share for ${path}; ${howToGive}`
        : `${path} is in a client-custody vault: reading it needs its client share; ${howToGive}`;
    case "client_share_malformed":
      return `${from} cannot be used: ${error.message.replace(/^the X-Client-Share header is /, "it is ")}`;
    case "client_share_mismatch":
      return `${from} does not fit ${path}: ${error.message}`;
    case "client_share_invalid":
      return `${from} is not the right share for this version of ${path}`;
    default:
      // Client-side reconstruction names how the share is malformed (client_share_bad_check, …).
      return error.code.startsWith("client_share_") ? `${from} cannot be used: it is malformed (${error.message})` : undefined;
  }
}
