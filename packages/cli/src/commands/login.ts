/** `shardvault login` and `shardvault logout` */
import { createClient } from "@shardvault/sdk";
import { removeConfig, writeConfig } from "../config.js";
import { args, serverUrl, str, type Context } from "../context.js";
import { unwrap, usageError } from "../errors.js";
import { readFileValue, readStdin, promptHidden, refuseArgvSecret } from "../input.js";
import { printJson } from "../output.js";

/**
 * `shardvault login --email EMAIL`: a member's sign-in. The password comes from a prompt that does not echo, or
 * from standard input, never from the command line; only the session token (valid for an hour) is stored.
 */
async function loginWithPassword(ctx: Context, email: string): Promise<void> {
  const raw = !process.stdin.isTTY ? (await readStdin()).replace(/\r?\n$/, "") : await promptHidden(`Password for ${email}: `);
  const url = serverUrl(ctx);
  const session = unwrap(await createClient({ baseUrl: url }).auth.login(email, raw));
  const path = writeConfig({ url, token: session.access_token, email }, ctx.env);
  if (ctx.json) printJson({ url, config: path, expires_in: session.expires_in });
  else process.stdout.write(`Signed in to ${url} as ${email}; the session (${Math.round(session.expires_in / 60)} minutes) is stored in ${path} (mode 0600)\n`);
}

export async function login(ctx: Context): Promise<void> {
  args(ctx, []);
  refuseArgvSecret(ctx.options.password !== undefined, "--password", "type it at the prompt or pipe it to standard input");
  const email = str(ctx.options, "email");
  if (email !== undefined) return loginWithPassword(ctx, email);
  refuseArgvSecret(ctx.options["api-key"] !== undefined, "--api-key", "use --api-key-file FILE, standard input, the prompt, or SHARDVAULT_API_KEY");
  const file = str(ctx.options, "api-key-file");
  const raw = file !== undefined ? readFileValue(file, "the API key") : !process.stdin.isTTY ? await readStdin() : await promptHidden("API key (1ck_… or ocv_…): ");
  const apiKey = raw.trim();
  if (!/^(1ck|ocv)_\S+$/.test(apiKey)) throw usageError("the API key must start with 1ck_ (user) or ocv_ (agent)");
  const agentId = str(ctx.options, "agent-id");
  const url = serverUrl(ctx);
  // Checked before it is stored: a token exchange with the key.
  if (ctx.options["no-verify"] !== true) {
    const sdk = createClient({ baseUrl: url });
    unwrap(apiKey.startsWith("ocv_") ? await sdk.auth.agentToken(apiKey, agentId) : await sdk.auth.apiKeyToken(apiKey));
  }
  const path = writeConfig({ url, api_key: apiKey, ...(agentId ? { agent_id: agentId } : {}) }, ctx.env);
  if (ctx.json) printJson({ url, config: path });
  else process.stdout.write(`Logged in to ${url}; the key is stored in ${path} (mode 0600)\n`);
}

export async function logout(ctx: Context): Promise<void> {
  args(ctx, []);
  const path = removeConfig(ctx.env);
  if (ctx.json) printJson({ config: path, removed: true });
  else process.stdout.write(`Logged out: removed ${path}\n`);
}
