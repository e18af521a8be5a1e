/**
 * Arithmetic in GF(2^8) with the AES reduction polynomial x^8 + x^4 + x^3 + x + 1 (0x11b), FIPS-197 §4.
 *
 * No lookup table is indexed by a secret byte and no branch depends on one: tables leak their index through
 * the cache. `gfMul` takes its *second* operand as public — Shamir only ever multiplies a secret byte by an
 * x-coordinate or a Lagrange coefficient, both derived from public x values — so its loop may stop at the
 * highest set bit of that operand while staying constant time in the first.
 */

/** a·x mod 0x11b, without branching on the top bit of `a`. */
function xtime(a: number): number {
  return ((a << 1) ^ (-(a >> 7) & 0x1b)) & 0xff;
}

/** Product of `secret` and `pub`. Running time depends on `pub` only. */
export function gfMul(secret: number, pub: number): number {
  let product = 0;
  let a = secret & 0xff;
  for (let b = pub & 0xff; b !== 0; b >>>= 1) {
    product ^= -(b & 1) & a;
    a = xtime(a);
  }
  return product;
}

/** Multiplicative inverse as a^254 (a^255 = 1 for a ≠ 0); 0 maps to 0, as the AES S-box defines it. */
export function gfInv(pub: number): number {
  // Square-and-multiply with the fixed exponent 254 = 0b11111110.
  let result = 1;
  let power = pub & 0xff;
  for (let bit = 1; bit < 8; bit++) {
    power = gfMul(power, power);
    result = gfMul(result, power);
  }
  return result;
}

/**
 * Four products at once: each byte lane of the 32-bit word `secret` times `pub`, as `gfMul` computes them.
 * Same loop as `gfMul` (its length depends on `pub` only), with xtime done lane-wise: the reduction bit of
 * each lane is masked out and folded back as 0x1b in that lane, so no carry crosses a byte boundary.
 */
export function gfMulWord(secret: number, pub: number): number {
  let product = 0;
  let a = secret | 0;
  for (let b = pub & 0xff; b !== 0; b >>>= 1) {
    product ^= -(b & 1) & a;
    a = ((a & 0x7f7f7f7f) << 1) ^ Math.imul((a >>> 7) & 0x01010101, 0x1b);
  }
  return product;
}
