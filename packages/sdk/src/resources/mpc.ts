/** `client.vault.mpc`: the MPC key lifecycle jobs (KEK rotation, provider replacement, proactive refresh). */
import type { MpcJob, MpcJobStarted, ReplaceProviderBody } from "../api-types.js";
import { clientValidationFailure } from "../errors.js";
import { idProblem } from "../paths.js";
import type { Transport } from "../transport.js";
import type { ShardvaultResponse } from "../types.js";

const mpcPath = (vaultId: string) => `/v1/vaults/${encodeURIComponent(vaultId)}/mpc`;

export class MpcResource {
  constructor(private readonly http: Transport) {}

  private start(vaultId: string, call: string, body?: ReplaceProviderBody): Promise<ShardvaultResponse<MpcJobStarted>> {
    const problem = idProblem("vaultId", vaultId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "POST", path: `${mpcPath(vaultId)}/${call}`, ...(body !== undefined ? { body } : {}) });
  }

  /** `POST …/mpc/rotate`: a new KEK at every slot, every share re-wrapped, the old KEKs disabled. Answers the job (202). */
  rotate(vaultId: string): Promise<ShardvaultResponse<MpcJobStarted>> {
    return this.start(vaultId, "rotate");
  }

  /**
   * `POST …/mpc/replace-provider`: moves the vault's share from slot `from` to slot `to`. In a client-custody
   * vault whose `from` is unreachable the answer is 409 `needs_client_shares`: move each secret with
   * `client.secrets.refresh`.
   */
  replaceProvider(vaultId: string, body: ReplaceProviderBody): Promise<ShardvaultResponse<MpcJobStarted>> {
    return this.start(vaultId, "replace-provider", body);
  }

  /** `POST …/mpc/refresh`: multi-HSM proactive refresh, every DEK re-split with fresh coefficients. */
  refresh(vaultId: string): Promise<ShardvaultResponse<MpcJobStarted>> {
    return this.start(vaultId, "refresh");
  }

  /** `GET …/mpc/jobs/{job_id}`: a lifecycle job's status and progress. */
  job(vaultId: string, jobId: string): Promise<ShardvaultResponse<MpcJob>> {
    const problem = idProblem("vaultId", vaultId) ?? idProblem("jobId", jobId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "GET", path: `${mpcPath(vaultId)}/jobs/${encodeURIComponent(jobId)}` });
  }
}
