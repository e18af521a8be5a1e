/** Maps a provider call's failures to API errors. */
import { corrupt, unavailable } from "../errors.js";
import { ProviderError, type KeyProvider } from "../providers/provider.js";

export async function callProvider<T>(
  provider: KeyProvider,
  call: () => Promise<T>,
  integrityCode = "stored_key_corrupt",
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ProviderError && error.kind === "integrity") throw corrupt(integrityCode);
    // Timeouts, refusals, throttling and misconfiguration alike: the request can be retried later.
    throw unavailable("provider_unavailable", `key provider ${provider.slot} is unavailable`);
  }
}
