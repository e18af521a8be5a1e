/** `shardvault agent create|list|rotate-key` */
import type { Agent, AgentWithKey, Scope } from "@shardvault/sdk";
import { args, client, nameArg, list, positiveInt, str, type Context } from "../context.js";
import { unwrap } from "../errors.js";
import { printJson, printRecord, printTable, warn } from "../output.js";

function showWithKey(ctx: Context, created: AgentWithKey): void {
  warn("The agent's API key is shown ONCE: store it now (e.g. as ONECLAW_AGENT_API_KEY in the agent's environment).");
  if (ctx.json) return printJson(created);
  const { agent } = created;
  printRecord([
    ["ID", agent.id],
    ["NAME", agent.name],
    ["VAULTS", agent.vault_ids.length ? agent.vault_ids : "all"],
    ["SCOPES", agent.scopes],
    ["API_KEY", created.api_key],
  ]);
}

export const agentCommands = {
  async create(ctx: Context) {
    const name = nameArg(ctx);
    const description = str(ctx.options, "description");
    const vaultIds = [...(list(str(ctx.options, "vault-ids")) ?? []), ...((ctx.options.vault as string[] | undefined) ?? [])];
    const scopes = list(str(ctx.options, "scopes"));
    const ttl = positiveInt(str(ctx.options, "token-ttl"), "--token-ttl");
    const expires_at = str(ctx.options, "expires-at");
    const created = unwrap(
      await client(ctx).agents.create({
        name,
        ...(description !== undefined ? { description } : {}),
        ...(vaultIds.length ? { vault_ids: vaultIds } : {}),
        // The server checks the vocabulary and names an unknown scope.
        ...(scopes ? { scopes: scopes as Scope[] } : {}),
        ...(ttl !== undefined ? { token_ttl_seconds: ttl } : {}),
        ...(expires_at !== undefined ? { expires_at } : {}),
      }),
    );
    showWithKey(ctx, created);
  },

  async list(ctx: Context) {
    args(ctx, []);
    const { agents } = unwrap(await client(ctx).agents.list());
    if (ctx.json) return printJson({ agents });
    printTable<Agent>(agents, [
      ["ID", (a) => a.id],
      ["NAME", (a) => a.name],
      ["ACTIVE", (a) => (a.is_active ? "yes" : "no")],
      ["VAULTS", (a) => (a.vault_ids.length ? a.vault_ids : "all")],
      ["KEY", (a) => `${a.key_prefix}…`],
      ["CREATED", (a) => a.created_at],
    ]);
  },

  async "rotate-key"(ctx: Context) {
    const [id] = args(ctx, ["agent-id"]);
    showWithKey(ctx, unwrap(await client(ctx).agents.rotateKey(id!)));
  },
};
