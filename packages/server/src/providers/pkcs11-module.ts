/**
 * Loading pkcs11js (an optional native dependency) and PKCS#11 modules. A module is loaded and initialised once
 * per process and shared by every slot that uses it, with the token logins made through it.
 */
import { randomBytes } from "node:crypto";
import { ProviderError } from "./provider.js";
import { describeError, realModulePath, returnCode, type Pkcs11Api, type Pkcs11Binding } from "./pkcs11-api.js";

/**
 * Imports pkcs11js. The specifier is a variable so that TypeScript does not resolve it at build time; a
 * missing or unbuilt package is a configuration problem of this slot.
 */
export async function importPkcs11js(slot: string, specifier = "pkcs11js"): Promise<Pkcs11Binding> {
  let loaded: { default?: unknown } & Record<string, unknown>;
  try {
    loaded = (await import(specifier)) as typeof loaded;
  } catch (error) {
    throw new ProviderError(
      "misconfigured",
      slot,
      `the pkcs11 backend needs pkcs11js, which is not installed or not built (${(error as NodeJS.ErrnoException).code ?? describeError(error)}): ` +
        "run `npm ci` on a machine with a C++ toolchain (python3, make, g++) so that its native part builds",
    );
  }
  const binding = (loaded.default ?? loaded) as Partial<Pkcs11Binding>;
  if (typeof binding.PKCS11 !== "function") throw new ProviderError("misconfigured", slot, "pkcs11js loaded but exports no PKCS11 class");
  return binding as Pkcs11Binding;
}

/** A token logged in by this process: providers on the same token share the login (it is per application). */
export interface TokenLogin {
  providers: number;
  /** HMAC of the PIN it was logged in with, under a per-process key: a second slot must bring the same PIN. */
  pinTag: Buffer | undefined;
  /** Set once the token refused a PIN: no provider of this process tries again. */
  refused: string | undefined;
}

/** A module loaded and initialised once per process (C_Initialize/C_Finalize are per application). */
export interface LoadedModule {
  /** The module's real path: the registry key. */
  key: string;
  lib: Pkcs11Api;
  users: number;
  /** False when something else in the process had initialised it: then it is not ours to finalise. */
  ownsInit: boolean;
  tokens: Map<string, TokenLogin>;
}

const modules = new Map<string, LoadedModule>();
/** Keys the PIN tags of TokenLogin: a fresh one per process. */
export const pinTagKey = randomBytes(32);

export function acquireModule(slot: string, binding: Pkcs11Binding, module: string): LoadedModule {
  const key = realModulePath(module);
  const known = modules.get(key);
  if (known) {
    known.users++;
    return known;
  }
  const lib = new binding.PKCS11();
  try {
    lib.load(module);
  } catch (error) {
    throw new ProviderError("misconfigured", slot, `cannot load the PKCS#11 module ${module}: ${(error as Error).message}`);
  }
  let ownsInit = true;
  try {
    lib.C_Initialize();
  } catch (error) {
    if (returnCode(error) !== "CKR_CRYPTOKI_ALREADY_INITIALIZED") {
      throw new ProviderError("unavailable", slot, `C_Initialize of ${module} failed: ${describeError(error)}`);
    }
    ownsInit = false;
  }
  const loaded: LoadedModule = { key, lib, users: 1, ownsInit, tokens: new Map() };
  modules.set(key, loaded);
  return loaded;
}

export function releaseModule(loaded: LoadedModule): void {
  loaded.users--;
  if (loaded.users > 0) return;
  modules.delete(loaded.key);
  if (!loaded.ownsInit) return;
  try {
    loaded.lib.C_Finalize();
  } catch {
    // Nothing left to do with a module that will not finalise.
  }
}
