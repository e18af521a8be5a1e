/**
 * `@shardvault/crypto/client`: the Node-free part of the crypto core, for clients (the SDK, the dashboard in a
 * browser). Nothing reachable from here imports a Node module; a test walks the built import graph to keep it so.
 */
export { CryptoError, type CryptoErrorCode } from "./errors.js";
export { equalBytes, fromBase64, toBase64, wipe } from "./bytes.js";
export { decodeClientShare, type ClientShare } from "./client-share.js";
export { openSealedVersion, sealForServer, type SealedVersion, type SealedWrite, type SealTarget, type WireShare } from "./client-custody.js";
export type { VersionRef } from "./version-contexts.js";
