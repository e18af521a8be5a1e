/**
 * The one R/W session a PKCS#11 provider works through, opened and logged in once at create(): pkcs11js's
 * calls are synchronous, so one session serves every call of the provider without interleaving. A session or
 * token that goes away is reopened (and logged in again with the PIN that worked) once per call; a refused PIN
 * keeps the provider down without another attempt.
 */
import type { BackendContext } from "./backend.js";
import { ProviderError, type CallOptions } from "./provider.js";
import { CKF_RW_SESSION, CKF_SERIAL_SESSION, describeError, handleName, returnCode, SESSION_LOST, type Handle, type Pkcs11Api, type Pkcs11Binding, type Pkcs11Config } from "./pkcs11-api.js";
import { createKeyHandles, type KeyHandles } from "./pkcs11-keys.js";
import { acquireModule, releaseModule, type TokenLogin } from "./pkcs11-module.js";
import { findToken, logIn, type TokenTarget } from "./pkcs11-token.js";

export interface TokenSession {
  readonly lib: Pkcs11Api;
  /** `token "<label>" of <module>`, for messages. */
  readonly where: string;
  /** The KEK handles found through this session. */
  readonly keys: KeyHandles;
  fail(kind: ProviderError["kind"], message: string): ProviderError;
  /**
   * Runs one operation on the session. The operation throws raw pkcs11js errors only for a lost session or
   * token: then the session is reopened (and logged in again with the PIN that worked) and the operation
   * runs once more.
   */
  run<T>(opts: CallOptions | undefined, op: (session: Handle) => T): T;
  /** Maps an error raised by pkcs11js outside the cases an operation handles itself. */
  unexpected(what: string, error: unknown): never;
  /** Logs out when this was the token's last provider in the process, closes the session, releases the module. */
  close(): void;
}

/** Loads the module, finds the token, opens the session and logs in; a failure leaves nothing behind. */
export function openTokenSession(slot: string, config: Pkcs11Config, ctx: BackendContext, binding: Pkcs11Binding): TokenSession {
  const tokenKey = config.tokenLabel;
  const where = `token "${config.tokenLabel}" of ${config.module}`;
  const loaded = acquireModule(slot, binding, config.module);
  const lib = loaded.lib;
  const target: TokenTarget = { slot, config, ctx, lib, where };
  const keys = createKeyHandles(lib, slot, where);

  let session: Handle | undefined;
  let closed = false;
  /** Set when the token refused the PIN: the provider stays down without another login attempt. */
  let refused: ProviderError | undefined;
  let token: TokenLogin | undefined;
  let connectedSlot = "";

  const fail = (kind: ProviderError["kind"], message: string) => new ProviderError(kind, slot, message);

  /** Opens the session and logs it in, unless the token is already logged in for this process. */
  function connect(): void {
    const tokenSlot = findToken(target);
    let opened: Handle;
    try {
      opened = lib.C_OpenSession(tokenSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    } catch (error) {
      throw fail("unavailable", `cannot open a session on ${where}: ${describeError(error)}`);
    }
    try {
      token ??= loaded.tokens.get(tokenKey);
      if (!token) {
        token = { providers: 0, pinTag: undefined, refused: undefined };
        loaded.tokens.set(tokenKey, token);
      }
      logIn(target, opened, token);
    } catch (error) {
      try {
        lib.C_CloseSession(opened);
      } catch {
        // already gone
      }
      throw error instanceof ProviderError ? error : fail("unavailable", `logging in to ${where} failed: ${describeError(error)}`);
    }
    session = opened;
    connectedSlot = handleName(tokenSlot);
  }

  function dropSession(): void {
    const old = session;
    session = undefined;
    keys.clear();
    if (old) {
      try {
        lib.C_CloseSession(old);
      } catch {
        // already closed by the token
      }
    }
  }

  function run<T>(opts: CallOptions | undefined, op: (session: Handle) => T): T {
    if (closed) throw fail("unavailable", "the provider is closed");
    if (refused) throw refused;
    if (opts?.signal?.aborted) throw fail("unavailable", "call aborted before it reached the token");
    let reconnected = false;
    if (!session) {
      reconnect();
      reconnected = true;
    }
    try {
      return op(session!);
    } catch (error) {
      if (error instanceof ProviderError || reconnected || !SESSION_LOST.has(returnCode(error) ?? "")) throw error;
      ctx.log.warn(`${slot}: the session on ${where} was lost (${describeError(error)}); reopening it`);
      dropSession();
      if (opts?.signal?.aborted) throw fail("unavailable", "call aborted");
      reconnect();
      return op(session!);
    }
  }

  function reconnect(): void {
    try {
      connect();
    } catch (error) {
      if (error instanceof ProviderError && error.kind === "misconfigured" && token?.refused) refused = error;
      throw error;
    }
  }

  try {
    connect();
  } catch (error) {
    // A failed start leaves nothing behind: a later create() (a restart) tries once more.
    if (token?.providers === 0) loaded.tokens.delete(tokenKey);
    releaseModule(loaded);
    throw error;
  }
  token!.providers++;
  ctx.log.info(`${slot}: logged in to ${where} (PKCS#11 slot ${connectedSlot})`);

  return {
    lib,
    where,
    keys,
    fail,
    run,
    unexpected(what, error) {
      if (error instanceof ProviderError) throw error;
      const code = returnCode(error);
      if (code && SESSION_LOST.has(code)) throw fail("unavailable", `${what}: ${code} (lost again after reopening the session)`);
      throw fail("unavailable", `${what} failed: ${describeError(error)}`);
    },
    close() {
      if (closed) return;
      closed = true;
      const last = token ? --token.providers === 0 : true;
      if (last) loaded.tokens.delete(tokenKey);
      if (session && last) {
        try {
          lib.C_Logout(session);
        } catch {
          // not logged in any more
        }
      }
      dropSession();
      releaseModule(loaded);
    },
  };
}
