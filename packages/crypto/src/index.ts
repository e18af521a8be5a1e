export { CryptoError, type CryptoErrorCode } from "./errors.js";
export { assertBytes, equalBytes, wipe } from "./bytes.js";
export { gfInv, gfMul, gfMulWord } from "./gf256.js";
export { combine, MAX_SHARES, split, splitAt, type CombineOptions } from "./shamir.js";
export { xorCombine, xorSplit } from "./xor.js";
export { encodeContext, type Context, type ContextValue } from "./context.js";
export { IV_LENGTH, KEY_LENGTH, open, seal, SEALED_OVERHEAD, SEALED_VERSION, TAG_LENGTH } from "./seal.js";
export { commitDek, COMMITMENT_LENGTH, DEK_LENGTH, deriveValueKey, generateDek, verifyDekCommitment } from "./dek.js";
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
