/** `@shardvault/crypto`: the whole crypto core, for Node (the server). Clients use `@shardvault/crypto/client`. */
export { CryptoError, type CryptoErrorCode } from "./errors.js";
export { assertBytes, equalBytes, fromBase64, toBase64, wipe } from "./bytes.js";
export { gfInv, gfMul, gfMulWord } from "./gf256.js";
export { combine, MAX_SHARES, split, splitAt, type CombineOptions } from "./shamir.js";
export { xorCombine, xorSplit } from "./xor.js";
export { decodeContext, encodeContext, type Context, type ContextValue } from "./context.js";
export { IV_LENGTH, KEY_LENGTH, SEALED_OVERHEAD, SEALED_VERSION, TAG_LENGTH } from "./sealed-format.js";
export { open, seal } from "./seal.js";
export { COMMITMENT_LENGTH, DEK_LENGTH, generateDek } from "./dek-common.js";
export { commitDek, deriveValueKey, verifyDekCommitment } from "./dek.js";
export {
  clientShareTagContext,
  commitmentContext,
  ENVELOPE_FORMAT,
  valueContext,
  versionFields,
  type Protection,
  type VersionRef,
} from "./version-contexts.js";
export {
  CLIENT_SHARE_BYTES,
  CLIENT_SHARE_TAG_LENGTH,
  CLIENT_SHARE_VERSION,
  clientShareTag,
  decodeClientShare,
  encodeClientShare,
  SCHEME_SHAMIR,
  SCHEME_XOR,
  type ClientShare,
  type ClientShareScheme,
} from "./client-share.js";
export { openSealedVersion, sealForServer, type SealedVersion, type SealedWrite, type SealTarget, type WireShare } from "./client-custody.js";
