/**
 * Client-side reconstruction, for client-custody vaults: the client rebuilds (or makes) a version's DEK itself,
 * so the server never receives its client share, the DEK or the value.
 *
 * Read: the server answers `sealed` (the sealed value, the DEK commitment, the commitment's canonical context
 * and the server shares it unwrapped — as many as the mode needs beside the client's share, never enough to
 * rebuild the DEK alone). `openSealedVersion` checks that the context names the version asked for and that the
 * client share is that version's, combines, verifies the commitment, and opens the value.
 *
 * Write: the server answers a seal target (the next version number and the vault's layout); `sealForServer`
 * makes a fresh DEK, splits it as the mode does, seals the value, commits to the DEK, and returns what to send
 * (the server shares for the server to wrap at its providers) and the client share to keep. The server stores
 * the version only under the version number and layout it was sealed for.
 *
 * Everything here is Node-free (WebCrypto, `@shardvault/crypto/client`): the SDK and the dashboard run it.
 */
import { equalBytes, fromBase64, toBase64, wipe } from "./bytes.js";
import { clientShareTag, decodeClientShare, encodeClientShare, SCHEME_SHAMIR, SCHEME_XOR, type ClientShare } from "./client-share.js";
import { decodeContext } from "./context.js";
import { DEK_LENGTH, generateDek } from "./dek-common.js";
import { CryptoError } from "./errors.js";
import { combine, splitAt } from "./shamir.js";
import { clientShareTagContext, commitmentContext, ENVELOPE_FORMAT, valueContext, type VersionRef } from "./version-contexts.js";
import { webCommitDek, webOpenValue, webSealValue, webVerifyDekCommitment } from "./web-crypto.js";
import { xorCombine, xorSplit } from "./xor.js";

/** The holder name of the client's share in a vault's provider list (always last). */
const CLIENT = "client";

/** A server share as the wire carries it: its index (Shamir x; 1 for the XOR server part) and 32 bytes. */
export interface WireShare {
  index: number;
  share: string;
}

/** A version as a client-side read receives it (base64 fields). */
export interface SealedVersion {
  format: number;
  value: string;
  commitment: string;
  context: string;
  server_shares: WireShare[];
}

/** What `GET …/secret-seal/{path}` answers: the version a client-sealed write may claim, and the layout. */
export interface SealTarget {
  format: number;
  vault_id: string;
  path: string;
  version: number;
  custody: string;
  scheme: "xor" | "shamir";
  threshold: number;
  /** Share holders in share order, `client` last. */
  providers: string[];
}

/** The `sealed` body of a client-sealed write. */
export interface SealedWrite {
  format: number;
  version: number;
  providers: string[];
  value: string;
  commitment: string;
  server_shares: WireShare[];
}

const malformed = (what: string): never => {
  throw new CryptoError("sealed_malformed", `the sealed version's ${what} is malformed`);
};

function bytesOf(text: unknown, what: string, length?: number): Uint8Array {
  const bytes = typeof text === "string" ? fromBase64(text) : undefined;
  if (!bytes || (length !== undefined && bytes.length !== length)) return malformed(what);
  return bytes;
}

/** Checks that a client share was issued for `ref` (its public tag), before any key material is combined. */
async function clientShareOf(encoded: string, ref: VersionRef): Promise<ClientShare> {
  const share = await decodeClientShare(encoded);
  if (!equalBytes(share.tag, await clientShareTag(clientShareTagContext(ref)))) {
    wipe(share.share);
    throw new CryptoError("client_share_mismatch", `this client share belongs to another secret or version, not version ${ref.version} of ${ref.path}`);
  }
  return share;
}

/**
 * The commitment's context, checked to name the version asked for: a server (or a database edit) cannot pass off
 * another version's sealed value, which would open under its own context.
 */
function checkedContext(bytes: Uint8Array, ref: VersionRef): { threshold: number; holders: number } {
  const context = decodeContext(bytes);
  const names = context.purpose === "dek-commitment" && context.format === ENVELOPE_FORMAT && context.vault_id === ref.vaultId;
  if (!names || context.path !== ref.path || context.version !== ref.version) {
    throw new CryptoError("sealed_context_mismatch", `the sealed version names another secret or version than version ${ref.version} of ${ref.path}`);
  }
  const { threshold, providers } = context;
  if (typeof threshold !== "number" || !Array.isArray(providers) || providers.at(-1) !== CLIENT) return malformed("context");
  return { threshold, holders: providers.length };
}

/** Rebuilds the DEK from the server shares and the client's: XOR of the two parts, or Shamir at the holders' x. */
function combineDek(client: ClientShare, serverShares: Uint8Array[], indexes: number[], layout: { threshold: number; holders: number }): Uint8Array {
  if (client.scheme === SCHEME_XOR) {
    if (serverShares.length !== 1 || indexes[0] !== 1) return malformed("server shares");
    return xorCombine(serverShares[0]!, client.share);
  }
  const parts = [...serverShares.map((y, i) => withX(y, indexes[i]!)), withX(client.share, client.index)];
  try {
    const xs = Array.from({ length: layout.holders }, (_, i) => i + 1);
    return combine(parts, { threshold: layout.threshold, xs });
  } catch {
    return malformed("server shares");
  } finally {
    wipe(...parts);
  }
}

function withX(y: Uint8Array, x: number): Uint8Array {
  const part = new Uint8Array(y.length + 1);
  part.set(y);
  part[y.length] = x;
  return part;
}

/**
 * Opens a version read with `X-Reconstruct: client`, with the client's share, for the version `ref` names (the
 * vault and path asked for, the version the answer carries). Errors: `client_share_*` (malformed, another
 * version's, or not this version's share: `client_share_invalid`), `sealed_context_mismatch`,
 * `sealed_malformed`, `sealed_auth_failed`. The caller wipes the value.
 */
export async function openSealedVersion(sealed: SealedVersion, clientShare: string, asked: VersionRef): Promise<Uint8Array> {
  if (sealed?.format !== ENVELOPE_FORMAT) throw new CryptoError("sealed_unknown_version", `unknown sealed version format ${String(sealed?.format)}`);
  // Vault ids are UUIDs, which the server spells in lower case in every context.
  const ref = { ...asked, vaultId: asked.vaultId.toLowerCase() };
  const contextBytes = bytesOf(sealed.context, "context");
  const layout = checkedContext(contextBytes, ref);
  const commitment = bytesOf(sealed.commitment, "commitment");
  const value = bytesOf(sealed.value, "value");
  const wellFormed = (s: unknown) => typeof s === "object" && s !== null && Number.isInteger((s as WireShare).index) && typeof (s as WireShare).share === "string";
  if (!Array.isArray(sealed.server_shares) || !sealed.server_shares.every(wellFormed)) malformed("server shares");
  const client = await clientShareOf(clientShare, ref);
  const serverShares: Uint8Array[] = [];
  let dek: Uint8Array | undefined;
  try {
    for (const { share } of sealed.server_shares) serverShares.push(bytesOf(share, "server share", DEK_LENGTH));
    dek = combineDek(client, serverShares, sealed.server_shares.map((s) => s.index), layout);
    // A wrong share (or a damaged server share) rebuilds some other key: the commitment tells.
    if (!(await webVerifyDekCommitment(dek, contextBytes, commitment))) {
      throw new CryptoError("client_share_invalid", `the client share does not rebuild the key of version ${ref.version} of ${ref.path}`);
    }
    return await webOpenValue(dek, value, valueContext(ref));
  } finally {
    wipe(dek, client.share, ...serverShares);
  }
}

/** Seals `plaintext` for the version a seal target names: the write's `sealed` body, and the client share to keep. */
export async function sealForServer(target: SealTarget, plaintext: Uint8Array): Promise<{ sealed: SealedWrite; clientShare: string }> {
  if (target?.format !== ENVELOPE_FORMAT) throw new CryptoError("sealed_unknown_version", `unknown seal target format ${String(target?.format)}`);
  const { providers, scheme, threshold } = target;
  if (!Array.isArray(providers) || providers.at(-1) !== CLIENT || (scheme !== "xor" && scheme !== "shamir")) malformed("seal target");
  const ref: VersionRef = { vaultId: target.vault_id, path: target.path, version: target.version };
  const clientIndex = providers.length;
  const dek = generateDek();
  // XOR: one server part (every server slot holds it) and the client part; Shamir: one share per holder, each `[y…, x]`.
  const parts = scheme === "xor" ? xorSplit(dek) : splitAt(dek, threshold, providers.map((_, i) => i + 1));
  try {
    const serverParts = scheme === "xor" ? [{ index: 1, y: parts[0]! }] : parts.slice(0, -1).map((p, i) => ({ index: i + 1, y: p.subarray(0, DEK_LENGTH) }));
    const clientPart = parts.at(-1)!.subarray(0, DEK_LENGTH);
    const context = { custody: target.custody, threshold, providers };
    const clientShare = await encodeClientShare({
      scheme: scheme === "xor" ? SCHEME_XOR : SCHEME_SHAMIR,
      index: clientIndex,
      share: clientPart,
      tag: await clientShareTag(clientShareTagContext(ref)),
    });
    const sealed: SealedWrite = {
      format: ENVELOPE_FORMAT,
      version: target.version,
      providers: [...providers],
      value: toBase64(await webSealValue(dek, plaintext, valueContext(ref))),
      commitment: toBase64(await webCommitDek(dek, commitmentContext(ref, context))),
      server_shares: serverParts.map(({ index, y }) => ({ index, share: toBase64(y) })),
    };
    return { sealed, clientShare };
  } finally {
    wipe(dek, ...parts);
  }
}
