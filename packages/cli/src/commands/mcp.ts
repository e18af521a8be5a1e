/**
 * `shardvault mcp`: the MCP server for AI agents, over stdio, configured as 1claw-mcp is (the same environment
 * variables), so an MCP client's configuration moves over by changing the command.
 */
import { createClient, type ClientOptions } from "@shardvault/sdk";
import { args, serverUrl, str, type Context } from "../context.js";
import { CliError, EXIT, usageError } from "../errors.js";
import { serveStdio } from "../mcp/server.js";
import { vaultTools } from "../mcp/tools.js";
import { VERSION } from "../version.js";

/** The agent's credentials: ONECLAW_AGENT_API_KEY (with ONECLAW_AGENT_ID, optional: the key names its agent), else ONECLAW_AGENT_TOKEN. */
function credentials(env: NodeJS.ProcessEnv): ClientOptions {
  const apiKey = env.ONECLAW_AGENT_API_KEY;
  if (apiKey) return { apiKey, ...(env.ONECLAW_AGENT_ID ? { agentId: env.ONECLAW_AGENT_ID } : {}) };
  if (env.ONECLAW_AGENT_TOKEN) return { token: env.ONECLAW_AGENT_TOKEN };
  throw new CliError(
    "shardvault mcp needs an agent's credentials: set ONECLAW_AGENT_ID and ONECLAW_AGENT_API_KEY (the ocv_ key, exchanged for tokens and renewed), or ONECLAW_AGENT_TOKEN (a token, never renewed)",
    EXIT.AUTH,
  );
}

export async function mcp(ctx: Context): Promise<void> {
  args(ctx, []);
  const transport = ctx.env.MCP_TRANSPORT;
  if (transport && transport !== "stdio") throw usageError(`shardvault mcp speaks stdio only (MCP_TRANSPORT=${transport} is not served)`);
  const vaultId = str(ctx.options, "vault") ?? ctx.env.ONECLAW_VAULT_ID;
  if (!vaultId) throw usageError("which vault? set ONECLAW_VAULT_ID (or give --vault ID)");
  // The server: --url, else 1claw's ONECLAW_BASE_URL, else as for every command.
  const baseUrl = str(ctx.options, "url") || ctx.env.ONECLAW_BASE_URL || serverUrl(ctx);
  const sdk = createClient({ ...credentials(ctx.env), baseUrl });
  await serveStdio(vaultTools({ sdk, vaultId, shareFile: str(ctx.options, "client-share-file"), env: ctx.env }), VERSION);
}
