/**
 * The signed-in session. A member's email and password (`POST /v1/auth/token`), a user API key
 * (`POST /v1/auth/api-key-token`) or an accepted invitation (`POST /v1/auth/accept-invite`) is exchanged once
 * for a JWT and then forgotten: only the token and its expiry are kept, in this tab's sessionStorage (so a
 * reload keeps the session, closing the tab ends it). When the token expires the dashboard asks again.
 */
import { createClient, type ShardvaultClient, type ShardvaultResponse, type TokenResponse } from "@shardvault/sdk";

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

/** A token answer as a session; the clock is read before the request, so the session never outlives the token. */
async function sessionFrom(exchange: Promise<ShardvaultResponse<TokenResponse>>): Promise<SignInResult> {
  const startedAt = Date.now();
  const { data, error } = await exchange;
  if (error) return { error: error.detail };
  // A little early, so a request never goes out with a token that expires on the way.
  const expiresAt = startedAt + Math.max(0, data.expires_in * 1000 - 5_000);
  return { session: { token: data.access_token, expiresAt } };
}

/** A client without credentials, for the public exchanges. */
const anonymous = () => createClient({ baseUrl: origin() });

/** Exchanges a user API key for a token. The key goes in the request body only and is not kept. */
export function exchangeApiKey(apiKey: string): Promise<SignInResult> {
  const key = apiKey.trim();
  if (key === "") return Promise.resolve({ error: "Enter your user API key." });
  if (key.startsWith("ocv_")) return Promise.resolve({ error: "That is an agent key (ocv_…). Sign in with a user API key (1ck_…)." });
  return sessionFrom(anonymous().auth.apiKeyToken(key));
}

/** Signs a member in by email and password; every mismatch is the server's one 401 detail. */
export function signInWithPassword(email: string, password: string): Promise<SignInResult> {
  if (email.trim() === "" || password === "") return Promise.resolve({ error: "Enter your email and password." });
  return sessionFrom(anonymous().auth.login(email.trim(), password));
}

/** Accepts an invitation: the member is created with this password and signed in. */
export function acceptInvitation(inviteToken: string, password: string, displayName: string): Promise<SignInResult> {
  const token = inviteToken.trim();
  if (token === "") return Promise.resolve({ error: "Enter the invite token you were given." });
  return sessionFrom(anonymous().auth.acceptInvite(token, password, displayName.trim() === "" ? undefined : displayName.trim()));
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
