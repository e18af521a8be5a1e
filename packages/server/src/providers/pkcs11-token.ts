/**
 * Finding a PKCS#11 slot's token by its label and logging in to it: the PIN is read from its source, handed to
 * C_Login and to nothing else, and a refused PIN is recorded so that no provider of this process tries again
 * (HSMs lock or wipe their keys after repeated wrong PINs). A second slot on a token already logged in must
 * bring the same PIN.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { wipe } from "@shardvault/crypto";
import type { BackendContext } from "./backend.js";
import { ProviderError } from "./provider.js";
import {
  CKF_TOKEN_INITIALIZED,
  CKF_USER_PIN_COUNT_LOW,
  CKF_USER_PIN_FINAL_TRY,
  CKF_USER_PIN_INITIALIZED,
  CKF_USER_PIN_LOCKED,
  CKS_RW_USER_FUNCTIONS,
  CKU_USER,
  describeError,
  PIN_REFUSED,
  returnCode,
  type Handle,
  type Pkcs11Api,
  type Pkcs11Config,
} from "./pkcs11-api.js";
import { pinTagKey, type TokenLogin } from "./pkcs11-module.js";

/** One slot's token, as its messages name it. */
export interface TokenTarget {
  slot: string;
  config: Pkcs11Config;
  ctx: BackendContext;
  lib: Pkcs11Api;
  /** `token "<label>" of <module>` */
  where: string;
}

const fail = (target: TokenTarget, kind: ProviderError["kind"], message: string) => new ProviderError(kind, target.slot, message);

/** Reads the PIN from its source. The caller hands it to C_Login and keeps no copy. */
function readPin(slot: string, config: Pkcs11Config, ctx: BackendContext): string {
  if ("env" in config.pin) {
    const value = ctx.env[config.pin.env];
    if (value === undefined || value === "") {
      throw new ProviderError("misconfigured", slot, `environment variable ${config.pin.env} (providers.${slot}.pin_env) is not set`);
    }
    return value;
  }
  const file = config.pin.file;
  let raw: Buffer;
  try {
    if ((statSync(file).mode & 0o077) !== 0) ctx.log.warn(`${slot}: pin_file ${file} is readable by group or others; chmod 600 it`);
    raw = readFileSync(file);
  } catch (error) {
    throw new ProviderError("misconfigured", slot, `cannot read pin_file ${file} (${(error as NodeJS.ErrnoException).code ?? describeError(error)})`);
  }
  try {
    let end = raw.length;
    if (end > 0 && raw[end - 1] === 0x0a) end--;
    if (end > 0 && raw[end - 1] === 0x0d) end--;
    if (end === 0) throw new ProviderError("misconfigured", slot, `pin_file ${file} is empty`);
    return raw.toString("utf8", 0, end);
  } finally {
    wipe(raw);
  }
}

/** The PKCS#11 slot holding the configured token; refuses a missing, ambiguous, PIN-less or locked token. */
export function findToken(target: TokenTarget): Handle {
  const { slot, config, ctx, lib, where } = target;
  const { module, tokenLabel: label } = config;
  let slots: Handle[];
  try {
    slots = lib.C_GetSlotList(true);
  } catch (error) {
    throw fail(target, "unavailable", `C_GetSlotList of ${module} failed: ${describeError(error)}`);
  }
  const labels: string[] = [];
  const matches: Array<{ handle: Handle; flags: number }> = [];
  for (const handle of slots) {
    let info: { label: string; flags: number };
    try {
      info = lib.C_GetTokenInfo(handle);
    } catch {
      continue; // a slot whose token cannot be read is not the one configured
    }
    if ((info.flags & CKF_TOKEN_INITIALIZED) === 0) continue;
    const found = info.label.replace(/[ \0]+$/, "");
    labels.push(JSON.stringify(found));
    if (found === label.replace(/ +$/, "")) matches.push({ handle, flags: info.flags });
  }
  if (matches.length === 0) {
    const present = labels.length > 0 ? `tokens present: ${labels.join(", ")}` : "no initialised token is present";
    throw fail(target, "misconfigured", `no token labelled "${label}" in the PKCS#11 module ${module} (${present})`);
  }
  if (matches.length > 1) throw fail(target, "misconfigured", `${matches.length} tokens are labelled "${label}" in ${module}: labels must be unique`);
  const { handle, flags } = matches[0]!;
  if ((flags & CKF_USER_PIN_INITIALIZED) === 0) throw fail(target, "misconfigured", `${where} has no user PIN set (initialise it with its SO PIN)`);
  if ((flags & CKF_USER_PIN_LOCKED) !== 0) throw fail(target, "misconfigured", `the user PIN of ${where} is locked: unlock it with the SO PIN; no login was attempted`);
  if ((flags & CKF_USER_PIN_FINAL_TRY) !== 0) ctx.log.warn(`${slot}: ${where} reports one PIN attempt left before it locks`);
  else if ((flags & CKF_USER_PIN_COUNT_LOW) !== 0) ctx.log.warn(`${slot}: ${where} reports an earlier wrong PIN`);
  return handle;
}

/** Logs the open session in, unless the token is already logged in for this process (with the same PIN). */
export function logIn(target: TokenTarget, session: Handle, token: TokenLogin): void {
  const { slot, config, ctx, lib, where } = target;
  if (token.refused) throw fail(target, "misconfigured", `${where} refused the PIN earlier (${token.refused}); not trying again: fix the PIN and restart`);
  const pin = readPin(slot, config, ctx);
  const pinTag = createHmac("sha256", pinTagKey).update(pin, "utf8").digest();
  const loggedIn = lib.C_GetSessionInfo(session).state === CKS_RW_USER_FUNCTIONS;
  if (loggedIn) {
    // Another slot of this process logged the token in: it must have used this slot's PIN too.
    if (token.pinTag && !timingSafeEqual(token.pinTag, pinTag)) {
      throw fail(target, "misconfigured", `${where} is already logged in by another slot with a different PIN; no login was attempted`);
    }
  } else {
    try {
      lib.C_Login(session, CKU_USER, pin);
    } catch (error) {
      const code = returnCode(error);
      if (code && PIN_REFUSED.has(code)) {
        token.refused = code;
        throw fail(
          target,
          "misconfigured",
          `login to ${where} refused: ${code}; the PIN from ${"env" in config.pin ? `environment variable ${config.pin.env}` : `pin_file ${config.pin.file}`} ` +
            "is wrong and is not retried (HSMs lock or wipe their keys after repeated wrong PINs)",
        );
      }
      if (code !== "CKR_USER_ALREADY_LOGGED_IN") throw fail(target, "unavailable", `login to ${where} failed: ${describeError(error)}`);
    }
  }
  token.pinTag = pinTag;
}
