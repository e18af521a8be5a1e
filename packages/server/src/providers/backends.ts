/** Every backend a configuration file may name, by its `backend` value. */
import type { Backend } from "./backend.js";
import { awsKmsBackend } from "./aws-kms.js";
import { azureKeyVaultBackend } from "./azure-keyvault.js";
import { gcpKmsBackend } from "./gcp-kms.js";
import { localBackend } from "./local-backend.js";
import { pkcs11Backend } from "./pkcs11.js";

export const BACKENDS: ReadonlyMap<string, Backend<unknown>> = new Map<string, Backend<any>>([
  ["local", localBackend],
  ["aws-kms", awsKmsBackend],
  ["gcp-kms", gcpKmsBackend],
  ["azure-keyvault", azureKeyVaultBackend],
  ["pkcs11", pkcs11Backend],
]);
