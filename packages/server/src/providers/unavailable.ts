/**
 * A slot that is configured but cannot serve (its key material is gone): it answers every call with a
 * misconfiguration error (the API's 503 provider_unavailable) and reports itself unavailable, so the other
 * slots go on serving what they can.
 */
import { ProviderError, type KeyProvider } from "./provider.js";

export function unavailableProvider(of: Pick<KeyProvider, "slot" | "backend" | "development">, reason: string): KeyProvider {
  const refuse = async (): Promise<never> => {
    throw new ProviderError("misconfigured", of.slot, reason);
  };
  return {
    ...of,
    forgeableWraps: false, // it wraps nothing
    createKek: refuse,
    wrap: refuse,
    unwrap: refuse,
    disableKek: refuse,
    async health() {
      return { status: "unavailable", latencyMs: 0, detail: reason };
    },
    async close() {},
  };
}
