// The MPC guide: "Enabling MPC on a vault" (SDK), "Storing secrets (client custody modes)" (SDK) and
// "Reading secrets (client custody modes)" (SDK), in that order.
import { createClient } from "@shardvault/sdk";

const step = (name: string, value: unknown) => console.log(`STEP ${JSON.stringify({ name, value })}`);

const client = createClient({
  apiKey: process.env.SHARDVAULT_API_KEY!, // the guide: "1ck_..."
  baseUrl: process.env.SHARDVAULT_URL!, // the guide: "https://api.1claw.xyz"
});

// Create a vault with MPC enabled
const { data: vault } = await client.vault.create({
  name: "mpc-vault",
  description: "Vault with 2-of-2 client custody",
});

// Enable MPC on the vault
await client.vault.enableMpc(vault!.id, {
  custody_mode: "2of2_client_custody",
});
step("vault", (await client.vault.get(vault!.id)).data);

// Write a secret — response includes client_share for client custody modes
const { data: created } = await client.secrets.put(vault!.id, "api-keys/stripe", {
  type: "api_key",
  value: "sk_live_abc123...",
});

if (created?.client_share) {
  // CRITICAL: Store this securely. It is only returned once.
  console.log("Client share (store this):", created.client_share);
  // Example: save to a hardware security key, password manager, or secure env
}
step("created", created);

const clientShare = created!.client_share!;

// Read a secret — provide client_share for client custody modes
const { data: secret } = await client.secrets.get(vault!.id, "api-keys/stripe", {
  headers: {
    "X-Client-Share": clientShare, // The base64 share from secret creation
  },
});
console.log(secret?.value); // "sk_live_abc123..."
step("secret", secret);

// Without the share, the read is refused.
step("without-share", await client.secrets.get(vault!.id, "api-keys/stripe"));
