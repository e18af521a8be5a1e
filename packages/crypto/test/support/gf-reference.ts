/**
 * A plain GF(2^8) reference for the tests, written differently from src/gf256.ts on purpose: a carry-less
 * schoolbook product into 15 bits, then long division by the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11b).
 * Branches freely; it only ever sees test data.
 */
export function refMul(a: number, b: number): number {
  let product = 0;
  for (let bit = 0; bit < 8; bit++) {
    if ((b >> bit) & 1) product ^= a << bit;
  }
  for (let bit = 14; bit >= 8; bit--) {
    if ((product >> bit) & 1) product ^= 0x11b << (bit - 8);
  }
  return product;
}

/** Evaluates s + c[0]·x + c[1]·x² + … at x, term by term with powers of x (not Horner, unlike src). */
export function refEvaluate(secret: number, coefficients: readonly number[], x: number): number {
  let value = secret;
  let power = 1;
  for (const c of coefficients) {
    power = refMul(power, x);
    value ^= refMul(c, power);
  }
  return value;
}
