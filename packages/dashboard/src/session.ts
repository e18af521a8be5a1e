/**
 * The signed-in session. The user's API key is exchanged once for a JWT (`POST /v1/auth/api-key-token`)
 * and then forgotten: only the token and its expiry are kept, in this tab's sessionStorage (so a reload keeps
 * the session, closing the tab ends it). When the token expires the dashboard asks for the key again.
 */
import { createClient, type ShardvaultClient } from "@shardvault/sdk";

const STORAGE_KEY = "shardvault.session";

export interface Session {
  token: string;
  /** Epoch ms after which the server will refuse the token. */
  expiresAt: number;
}

/** The page's own origin: the dashboard only ever talks to the server that served it. */
export const origin = (): string => window.location.origin;

export function loadSession(): Session | undefined {
  try {
    const raw = window.sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as Partial<Session>;
    if (typeof parsed.token !== "string" || typeof parsed.expiresAt !== "number") return undefined;
    if (parsed.expiresAt <= Date.now()) {
      window.sessionStorage.removeItem(STORAGE_KEY);
      return undefined;
    }
    return { token: parsed.token, expiresAt: parsed.expiresAt };
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session): void {
  window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

/** Sign-out: nothing of the session stays in the browser. */
export function clearSession(): void {
  window.sessionStorage.removeItem(STORAGE_KEY);
}

export type SignInResult = { session: Session; error?: undefined } | { session?: undefined; error: string };

/** Exchanges a user API key for a token. The key goes in the request body only and is not kept. */
export async function exchangeApiKey(apiKey: string): Promise<SignInResult> {
  const key = apiKey.trim();
  if (key === "") return { error: "Enter your user API key." };
  if (key.startsWith("ocv_")) return { error: "That is an agent key (ocv_…). Sign in with a user API key (1ck_…)." };
  const startedAt = Date.now();
  const { data, error } = await createClient({ baseUrl: origin() }).auth.apiKeyToken(key);
  if (error) return { error: error.detail };
  // A little early, so a request never goes out with a token that expires on the way.
  const expiresAt = startedAt + Math.max(0, data.expires_in * 1000 - 5_000);
  return { session: { token: data.access_token, expiresAt } };
}

/**
 * The API client for a session. Every answer passes `onUnauthorized` a 401 (a revoked or expired token), so
 * the dashboard can ask for the key again instead of failing page by page.
 */
export function clientFor(session: Session, onUnauthorized: () => void): ShardvaultClient {
  return createClient({
    token: session.token,
    baseUrl: origin(),
    fetch: async (url, init) => {
      const response = await window.fetch(url, { ...init, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" });
      if (response.status === 401) onUnauthorized();
      return response;
    },
  });
}
