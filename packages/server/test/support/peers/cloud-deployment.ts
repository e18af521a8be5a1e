/**
 * The three cloud slots of the MPC suites — gcp (gcp-kms), aws (aws-kms), azure (azure-keyvault), each on its
 * own local wire peer — and a server deployed on them:
 *
 *   const cloud = await startCloudPeers();
 *   const deployment = await deployOnCloudPeers(cloud, "postgres", { deadline_ms: 2000 });
 *   await cloud.peers.azure.fault({ refuse: true });
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir, type DatabaseKind } from "../harness.js";
import { deploy, type Deployment } from "../postgres.js";
import { awsKmsSlotConfig, startAwsKmsPeer, type AwsKmsPeer } from "./aws-kms-peer.js";
import { azureKeyVaultSlotConfig, startAzureKeyVaultPeer, type AzureKeyVaultPeer } from "./azure-keyvault-peer.js";
import type { WirePeer } from "./faults.js";
import { gcpKmsSlotConfig, startGcpKmsPeer, type GcpKmsPeer } from "./gcp-kms-peer.js";

export type CloudSlot = "gcp" | "aws" | "azure";
export const CLOUD_SLOTS: readonly CloudSlot[] = ["gcp", "aws", "azure"];

export interface CloudPeers {
  gcp: GcpKmsPeer;
  aws: AwsKmsPeer;
  azure: AzureKeyVaultPeer;
  peers: Record<CloudSlot, WirePeer>;
  /** The peers' credentials: never to be printed by the server. */
  credentials: string[];
  /** Clears every fault (counters kept). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startCloudPeers(): Promise<CloudPeers> {
  const [gcp, aws, azure] = await Promise.all([startGcpKmsPeer(), startAwsKmsPeer(), startAzureKeyVaultPeer()]);
  const peers = { gcp, aws, azure };
  return {
    gcp,
    aws,
    azure,
    peers,
    credentials: [gcp.token, aws.secretAccessKey, azure.token],
    reset: async () => void (await Promise.all(Object.values(peers).map((p) => p.reset()))),
    stop: async () => void (await Promise.all(Object.values(peers).map((p) => p.stop()))),
  };
}

/**
 * A server (default provider gcp) whose slots are the three peers, with `settings` as further top-level fields
 * of its configuration file (`deadline_ms`, …).
 */
export async function deployOnCloudPeers(cloud: CloudPeers, kind: DatabaseKind, settings: Record<string, unknown> = {}): Promise<Deployment> {
  // 2048-bit RSA keys for the azure slot: the peer generates them quickly.
  const slots = { gcp: gcpKmsSlotConfig(cloud.gcp), aws: awsKmsSlotConfig(cloud.aws), azure: azureKeyVaultSlotConfig(cloud.azure, { key_size: 2048 }) };
  const backends: Record<CloudSlot, string> = { gcp: "gcp-kms", aws: "aws-kms", azure: "azure-keyvault" };
  const config = join(makeTempDir("shardvault-cloud-peers-"), "shardvault.json");
  writeFileSync(
    config,
    JSON.stringify({
      default_provider: "gcp",
      ...settings,
      providers: Object.fromEntries(CLOUD_SLOTS.map((slot) => [slot, { backend: backends[slot], ...slots[slot].fields }])),
    }),
  );
  return deploy(kind, { env: { SHARDVAULT_CONFIG: config, ...slots.gcp.env, ...slots.aws.env, ...slots.azure.env } });
}
