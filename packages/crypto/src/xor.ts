/** XOR 2-of-2 splitting of a key: share 1 is uniformly random, share 2 = key ⊕ share 1. */
import { assertBytes, randomFill } from "./bytes.js";
import { CryptoError } from "./errors.js";

export function xorSplit(key: Uint8Array): [Uint8Array, Uint8Array] {
  assertBytes("key", key);
  if (key.length === 0) throw new CryptoError("invalid_argument", "key must not be empty");
  // Filled in place: randomBytes() may return a slice of a shared pool that could not be wiped.
  const first = randomFill(new Uint8Array(key.length));
  const second = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) second[i] = key[i]! ^ first[i]!;
  return [first, second];
}

export function xorCombine(first: Uint8Array, second: Uint8Array): Uint8Array {
  assertBytes("first", first);
  assertBytes("second", second, first.length);
  const key = new Uint8Array(first.length);
  for (let i = 0; i < key.length; i++) key[i] = first[i]! ^ second[i]!;
  return key;
}
