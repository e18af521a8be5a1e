/**
 * The handles of the KEKs a PKCS#11 session found on its token, by KEK reference: looked up by label and id,
 * cached up to a limit, looked up again when the token says a cached handle went stale. Handles belong to a
 * session: they are cleared with it.
 */
import { ProviderError } from "./provider.js";
import { CKA, CKK_AES, CKO_SECRET_KEY, HANDLE_STALE, KEK_ID, KEY_CACHE_LIMIT, KEY_UNFIT, returnCode, type Attribute, type Handle, type Pkcs11Api } from "./pkcs11-api.js";

export interface KeyHandles {
  /** The handle of a KEK on the token, found by its label and id (cached). */
  lookUp(s: Handle, kekId: string): Handle;
  remember(kekId: string, key: Handle): void;
  forget(kekId: string): void;
  clear(): void;
  /** Initialises a GCM operation with the KEK, looking the key up again if its cached handle went stale. */
  initWith(s: Handle, kekId: string, init: (key: Handle) => void): void;
}

export function createKeyHandles(lib: Pkcs11Api, slot: string, where: string): KeyHandles {
  const keys = new Map<string, Handle>();
  const fail = (kind: ProviderError["kind"], message: string) => new ProviderError(kind, slot, message);

  function remember(kekId: string, key: Handle): void {
    if (keys.size >= KEY_CACHE_LIMIT) keys.delete(keys.keys().next().value!);
    keys.set(kekId, key);
  }

  function lookUp(s: Handle, kekId: string): Handle {
    if (!KEK_ID.test(kekId)) throw fail("misconfigured", "unknown KEK reference (not a pkcs11 KEK id)");
    const cached = keys.get(kekId);
    if (cached) return cached;
    const template: Attribute[] = [
      { type: CKA.CLASS, value: CKO_SECRET_KEY },
      { type: CKA.KEY_TYPE, value: CKK_AES },
      { type: CKA.LABEL, value: kekId },
      { type: CKA.ID, value: Buffer.from(kekId, "utf8") },
    ];
    lib.C_FindObjectsInit(s, template);
    let found: Handle[];
    try {
      found = lib.C_FindObjects(s, 2);
    } finally {
      lib.C_FindObjectsFinal(s);
    }
    if (found.length === 0) throw fail("misconfigured", `KEK ${kekId} is not in ${where}`);
    if (found.length > 1) throw fail("misconfigured", `more than one key in ${where} is labelled ${kekId}`);
    remember(kekId, found[0]!);
    return found[0]!;
  }

  return {
    lookUp,
    remember,
    forget: (kekId) => void keys.delete(kekId),
    clear: () => keys.clear(),
    initWith(s, kekId, init) {
      for (let attempt = 0; ; attempt++) {
        const key = lookUp(s, kekId);
        try {
          init(key);
          return;
        } catch (error) {
          const code = returnCode(error) ?? "";
          if (HANDLE_STALE.has(code) && attempt === 0) {
            keys.delete(kekId);
            continue;
          }
          if (KEY_UNFIT.has(code)) throw fail("misconfigured", `the key ${kekId} in ${where} is disabled or cannot do AES-GCM (${code})`);
          throw error;
        }
      }
    },
  };
}
