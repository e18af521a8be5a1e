/** `client.vault`: vaults and MPC. */
import type { CmekRotationJob, CreateVaultBody, EnableCmekBody, EnableMpcBody, Vault, VaultList, VaultMpcEnabled } from "../api-types.js";
import { clientValidationFailure } from "../errors.js";
import { idProblem } from "../paths.js";
import type { Transport } from "../transport.js";
import { MpcResource } from "./mpc.js";
import type { ShardvaultResponse } from "../types.js";

const vaultPath = (id: string) => `/v1/vaults/${encodeURIComponent(id)}`;

export class VaultResource {
  /** The MPC key lifecycle jobs. */
  readonly mpc: MpcResource;

  constructor(private readonly http: Transport) {
    this.mpc = new MpcResource(http);
  }

  /** `POST /v1/vaults`. With `custody_mode` (or 1claw's `mpc_custody`), MPC is enabled at creation. */
  create(body: CreateVaultBody): Promise<ShardvaultResponse<Vault>> {
    return this.http.request({ method: "POST", path: "/v1/vaults", body });
  }

  /** `GET /v1/vaults`: `{ vaults: [...] }`. */
  list(): Promise<ShardvaultResponse<VaultList>> {
    return this.http.request({ method: "GET", path: "/v1/vaults" });
  }

  get(vaultId: string): Promise<ShardvaultResponse<Vault>> {
    const problem = idProblem("vaultId", vaultId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "GET", path: vaultPath(vaultId) });
  }

  delete(vaultId: string): Promise<ShardvaultResponse<null>> {
    const problem = idProblem("vaultId", vaultId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "DELETE", path: vaultPath(vaultId) });
  }

  /**
   * `POST /v1/vaults/{id}/mpc`. The body is sent as given, so both shapes work: the MPC guide's
   * `{ custody_mode, providers? }` and 1claw's typed SDK's `{ mpc_custody: "2-of-2" | "2-of-3" }`.
   * Enabling MPC on a vault with secrets answers their new client shares once (`client_shares`).
   */
  enableMpc(vaultId: string, body: EnableMpcBody): Promise<ShardvaultResponse<VaultMpcEnabled>> {
    const problem = idProblem("vaultId", vaultId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "POST", path: `${vaultPath(vaultId)}/mpc`, body });
  }

  /** `POST /v1/vaults/{id}/cmek`: new writes must be encrypted with the key of this fingerprint (SHA-256, hex). */
  enableCmek(vaultId: string, body: EnableCmekBody): Promise<ShardvaultResponse<Vault>> {
    const problem = idProblem("vaultId", vaultId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "POST", path: `${vaultPath(vaultId)}/cmek`, body });
  }

  /** `DELETE /v1/vaults/{id}/cmek`: stops requiring CMEK for new writes; existing versions stay encrypted. */
  disableCmek(vaultId: string): Promise<ShardvaultResponse<Vault>> {
    const problem = idProblem("vaultId", vaultId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "DELETE", path: `${vaultPath(vaultId)}/cmek` });
  }

  /**
   * `POST /v1/vaults/{id}/cmek-rotate`: starts a job that re-encrypts every CMEK version under the new key.
   * Both keys (standard base64 of 32 bytes) travel in headers only.
   */
  rotateCmek(vaultId: string, oldKeyBase64: string, newKeyBase64: string, newFingerprint: string): Promise<ShardvaultResponse<CmekRotationJob>> {
    const problem = idProblem("vaultId", vaultId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({
      method: "POST",
      path: `${vaultPath(vaultId)}/cmek-rotate`,
      body: { new_fingerprint: newFingerprint },
      headers: { "x-cmek-old-key": oldKeyBase64, "x-cmek-new-key": newKeyBase64 },
    });
  }

  /** `GET /v1/vaults/{id}/cmek-rotate/{job_id}`: a rotation job's progress. */
  getRotationJobStatus(vaultId: string, jobId: string): Promise<ShardvaultResponse<CmekRotationJob>> {
    const problem = idProblem("vaultId", vaultId) ?? idProblem("jobId", jobId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "GET", path: `${vaultPath(vaultId)}/cmek-rotate/${encodeURIComponent(jobId)}` });
  }
}
