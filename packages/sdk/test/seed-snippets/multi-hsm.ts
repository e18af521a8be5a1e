// The MPC guide: a 2-of-3 multi-HSM vault (the API section's second body, through the SDK), a secret
// written to it, and "Multi-HSM (no client share needed)".
import { createClient } from "@shardvault/sdk";

const step = (name: string, value: unknown) => console.log(`STEP ${JSON.stringify({ name, value })}`);

const client = createClient({
  apiKey: process.env.SHARDVAULT_API_KEY!, // the guide: "1ck_..."
  baseUrl: process.env.SHARDVAULT_URL!, // the guide: "https://api.1claw.xyz"
});

const { data: vault } = await client.vault.create({
  name: "mpc-vault",
  description: "Vault with 2-of-3 multi-HSM",
});

await client.vault.enableMpc(vault!.id, {
  custody_mode: "2of3_multi_hsm",
  providers: ["gcp", "aws", "azure"],
});
step("vault", (await client.vault.get(vault!.id)).data);

const { data: created } = await client.secrets.put(vault!.id, "api-keys/stripe", {
  type: "api_key",
  value: "sk_live_abc123...",
});
step("created", created);

// Multi-HSM: no client share needed
const { data: secret } = await client.secrets.get(vault!.id, "api-keys/stripe");
console.log(secret?.value);
step("secret", secret);
