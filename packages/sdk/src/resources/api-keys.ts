/** `client.apiKeys`: the user's API keys (`1ck_…`). */
import type { ApiKeyCreated, ApiKeyList, CreateApiKeyBody } from "../api-types.js";
import { clientValidationFailure } from "../errors.js";
import { idProblem } from "../paths.js";
import type { Transport } from "../transport.js";
import type { ShardvaultResponse } from "../types.js";

export class ApiKeysResource {
  constructor(private readonly http: Transport) {}

  /** `POST /v1/auth/api-keys`: the full key (`api_key`) is in this answer only. */
  create(body: CreateApiKeyBody): Promise<ShardvaultResponse<ApiKeyCreated>> {
    return this.http.request({ method: "POST", path: "/v1/auth/api-keys", body });
  }

  list(): Promise<ShardvaultResponse<ApiKeyList>> {
    return this.http.request({ method: "GET", path: "/v1/auth/api-keys" });
  }

  /** `DELETE /v1/auth/api-keys/{id}`: the key and the tokens issued from it stop working at once. */
  revoke(keyId: string): Promise<ShardvaultResponse<null>> {
    const problem = idProblem("keyId", keyId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "DELETE", path: `/v1/auth/api-keys/${encodeURIComponent(keyId)}` });
  }

  /** Another name for `revoke`. */
  delete(keyId: string): Promise<ShardvaultResponse<null>> {
    return this.revoke(keyId);
  }
}
