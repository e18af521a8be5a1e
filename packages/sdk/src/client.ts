/** `createClient`: one object with a resource per API area, sharing one transport and token source. */
import { AccessResource } from "./resources/access.js";
import { AgentsResource } from "./resources/agents.js";
import { ApiKeysResource } from "./resources/api-keys.js";
import { AuditResource } from "./resources/audit.js";
import { AuthResource } from "./resources/auth.js";
import { HealthResource } from "./resources/health.js";
import { OrgResource } from "./resources/org.js";
import { SecretsResource } from "./resources/secrets.js";
import { SharingResource } from "./resources/sharing.js";
import { VaultResource } from "./resources/vault.js";
import { Transport } from "./transport.js";
import type { ClientOptions, ShardvaultResponse } from "./types.js";
import { rotateCmekClientSide, type ClientSideCmekRotation, type RotatedSecret } from "./cmek-rotation.js";

export class ShardvaultClient {
  readonly vault: VaultResource;
  readonly secrets: SecretsResource;
  readonly sharing: SharingResource;
  readonly agents: AgentsResource;
  readonly access: AccessResource;
  readonly org: OrgResource;
  readonly apiKeys: ApiKeysResource;
  readonly audit: AuditResource;
  readonly auth: AuthResource;
  readonly health: HealthResource;
  private readonly transport: Transport;

  constructor(options: ClientOptions = {}) {
    this.transport = new Transport(options);
    this.vault = new VaultResource(this.transport);
    this.secrets = new SecretsResource(this.transport, options.cmekKey);
    this.sharing = new SharingResource(this.transport);
    this.agents = new AgentsResource(this.transport);
    this.access = new AccessResource(this.transport);
    this.org = new OrgResource(this.transport);
    this.apiKeys = new ApiKeysResource(this.transport);
    this.audit = new AuditResource(this.transport);
    this.auth = new AuthResource(this.transport);
    this.health = new HealthResource(this.transport);
  }

  /**
   * Rotates a vault's CMEK key on the client: for client-custody MPC vaults, where the server cannot open
   * values without the client's shares. Answers the new versions, with their new client shares.
   */
  rotateCmekClientSide(vaultId: string, rotation: ClientSideCmekRotation): Promise<ShardvaultResponse<{ rotated: RotatedSecret[] }>> {
    return rotateCmekClientSide(new SecretsResource(this.transport), this.vault, vaultId, rotation);
  }

  /** The server this client talks to. */
  get baseUrl(): string {
    return this.transport.baseUrl;
  }

  /** In agent mode: the agent id, given or learned from the token exchange. */
  get agentId(): string | undefined {
    return this.transport.tokens.agentId;
  }
}

/**
 * A client for users (`{ apiKey: "1ck_…", baseUrl }`), agents (`{ agentId, apiKey: "ocv_…" }`; an `ocv_`
 * key alone works too) or a ready token (`{ token, baseUrl }`). `baseUrl` defaults to `SHARDVAULT_URL`,
 * else `http://127.0.0.1:8787`. Every method resolves to `{ data, error, meta: { status } }` and never
 * throws for HTTP or network failures.
 */
export function createClient(options: ClientOptions = {}): ShardvaultClient {
  return new ShardvaultClient(options);
}
