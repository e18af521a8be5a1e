// The MPC guide: "Agent considerations", the agent code for a client-custody MPC vault. The guide leaves
// `vaultId` to the reader: here it comes from ONECLAW_VAULT_ID. No baseUrl: SHARDVAULT_URL supplies it.
import { createClient } from "@shardvault/sdk";

const vaultId = process.env.ONECLAW_VAULT_ID!;

// Agent code for client custody MPC vault
const client = createClient({
  agentId: process.env.ONECLAW_AGENT_ID,
  apiKey: process.env.ONECLAW_AGENT_API_KEY,
});

const { data: secret } = await client.secrets.get(vaultId, "api-keys/stripe", {
  headers: {
    "X-Client-Share": process.env.ONECLAW_CLIENT_SHARE!,
  },
});

console.log(`STEP ${JSON.stringify({ name: "secret", value: secret })}`);
console.log(secret?.value);
