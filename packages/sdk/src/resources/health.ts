/** `client.health`: liveness and key-provider health. */
import type { Health, HsmHealth } from "../api-types.js";
import type { Transport } from "../transport.js";
import type { ShardvaultResponse } from "../types.js";

export class HealthResource {
  constructor(private readonly http: Transport) {}

  /** `GET /v1/health` (public). */
  check(): Promise<ShardvaultResponse<Health>> {
    return this.http.request({ method: "GET", path: "/v1/health", auth: false });
  }

  /** `GET /v1/health/hsm`: per-provider detail when the client authenticates as a user. */
  hsm(): Promise<ShardvaultResponse<HsmHealth>> {
    return this.http.request({ method: "GET", path: "/v1/health/hsm" });
  }
}
