/** The configured provider slots, by name, and which one plain vaults use. */
import type { KeyProvider } from "./provider.js";

export interface ProviderRegistry {
  readonly defaultSlot: string;
  get(slot: string): KeyProvider | undefined;
  all(): KeyProvider[];
}

export function createRegistry(providers: KeyProvider[], defaultSlot: string): ProviderRegistry {
  const bySlot = new Map(providers.map((p) => [p.slot, p]));
  if (!bySlot.has(defaultSlot)) throw new Error(`default provider slot ${defaultSlot} is not configured`);
  return {
    defaultSlot,
    get: (slot) => bySlot.get(slot),
    all: () => [...bySlot.values()],
  };
}
