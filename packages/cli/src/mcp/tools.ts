/**
 * The MCP tools: 1claw-mcp's names, input shapes and answers (list_vaults, list_secrets, get_secret, put_secret,
 * describe_secret, delete_secret, rotate_and_store, get_env_bundle, share_secret), working on one vault. Unlike 1claw's
 * server these read client-custody vaults too, with the client shares of a share file (see ../shares.ts), and
 * record the shares their writes are given in it. As the command line does, they rebuild and seal client-custody
 * values on this machine: no client share and no value of such a vault goes to the server.
 */
import { z } from "zod";
import type { CreateShareBody, SecretWritten, ShardvaultClient, ShardvaultError, ShardvaultResponse, ShareCreated, WriteSecretBody } from "@shardvault/sdk";
import { CliError, EXIT } from "../errors.js";
import { checkShareFile, clientSharesFrom, readSecret, recordShares, shareProblem, writeSecret, type ClientShares } from "../shares.js";

export interface ToolContext {
  sdk: ShardvaultClient;
  vaultId: string;
  /** The share file given with --client-share-file: read for every call, so that changes to it count. */
  shareFile: string | undefined;
  env: NodeJS.ProcessEnv;
}

export interface Tool {
  name: string;
  description: string;
  input: z.ZodRawShape;
  /** The text answer; a `CliError` is a failure told to the model (the tool answers with `isError`). */
  run(args: Record<string, unknown>): Promise<string>;
}

function tool<S extends z.ZodRawShape>(definition: { name: string; description: string; input: S; run(args: z.infer<z.ZodObject<S>>): Promise<string> }): Tool {
  return definition as unknown as Tool;
}

const MCP_SHARE_HELP = "start `shardvault mcp` with --client-share-file FILE, a share file that holds it";

/** Secret types the server accepts: a lowercase word (`api_key`, `password`, `env_bundle`, …). */
const SECRET_TYPE = /^[a-z][a-z0-9_]{0,63}$/;
/** The types get_env_bundle reads: 1claw's `env_bundle`, and `env`, the type Shardvault has for KEY=VALUE files. */
const ENV_BUNDLE_TYPES = ["env_bundle", "env"];

const pathInput = (example: string) => z.string().min(1).describe(`Secret path, e.g. '${example}'`);

/** The answer's data, or the failure in words for the model (what is missing, what to do). */
function ok<T>(answer: ShardvaultResponse<T>, path?: string, shares?: ClientShares): T {
  if (!answer.error) return answer.data;
  throw new CliError(failureText(answer.error, answer.meta.status, path, shares), EXIT.ERROR);
}

function failureText(error: ShardvaultError, status: number, path: string | undefined, shares: ClientShares | undefined): string {
  if (path !== undefined && status === 404) return `No secret found at path '${path}'.`;
  const share = path !== undefined && shares ? shareProblem(error, path, shares, MCP_SHARE_HELP) : undefined;
  return `${share ?? error.message} (${status >= 400 ? `${status} ` : ""}${error.code})`;
}

/** KEY=VALUE lines: blank lines and `#` comments skipped, each line split at its first `=`. */
function parseEnvBundle(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const eq = line.indexOf("=");
    if (line === "" || line.startsWith("#") || eq === -1) continue;
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

export function vaultTools(ctx: ToolContext): Tool[] {
  const { sdk, vaultId } = ctx;
  const shares = () => clientSharesFrom(ctx.shareFile, ctx.env);

  /**
   * A write. In a client-custody vault the answer carries the new version's client share, shown this once and
   * needed by every read: it goes into the share file, so there must be one before anything is written.
   */
  async function write(path: string, body: WriteSecretBody): Promise<SecretWritten> {
    const vault = ok(await sdk.vault.get(vaultId));
    const clientCustody = vault.mpc_providers?.includes("client") === true;
    if (clientCustody && ctx.shareFile === undefined) {
      throw new CliError(`The vault uses client custody: a write returns a client share that must be kept, and no share file was given; ${MCP_SHARE_HELP}.`, EXIT.ERROR);
    }
    if (ctx.shareFile !== undefined) checkShareFile(ctx.shareFile);
    const written = ok(await writeSecret(sdk, vaultId, path, body), path);
    if (written.client_share !== undefined) {
      if (ctx.shareFile === undefined) throw new CliError(`Version ${written.version} of '${path}' was written with a client share that nothing could keep: that version cannot be read; ${MCP_SHARE_HELP}.`, EXIT.ERROR);
      recordShares(ctx.shareFile, [{ path, version: written.version, client_share: written.client_share }]);
    }
    return written;
  }

  const recorded = (written: SecretWritten) => (written.client_share !== undefined ? ` Its client share was recorded in ${ctx.shareFile}.` : "");

  /**
   * Shares a secret version by its id. In a client-custody vault the server needs the version's client share: it
   * is looked up in the share file by the path and version of the secret of that id among the vault's latest.
   */
  async function shareSecret(secretId: string, body: CreateShareBody): Promise<ShareCreated> {
    const first = await sdk.sharing.create(secretId, body);
    if (first.error?.code !== "client_share_required") return ok(first);
    const { secrets } = ok(await sdk.secrets.list(vaultId));
    const meta = secrets.find((s) => s.id === secretId);
    const book = shares();
    const clientShare = meta && book.forPath(meta.path, meta.version);
    if (!meta || clientShare === undefined) {
      throw new CliError(`The secret is in a client-custody vault: sharing it needs its client share; ${MCP_SHARE_HELP} (for the latest version of its path).`, EXIT.ERROR);
    }
    return ok(await sdk.sharing.create(secretId, body, { clientShare }), meta.path, book);
  }

  return [
    tool({
      name: "list_vaults",
      description: "List the vaults you can access, with their IDs, names and custody modes. Use it to find a vault before working with its secrets.",
      input: {},
      async run() {
        const { vaults } = ok(await sdk.vault.list());
        if (vaults.length === 0) return "No vaults found.";
        const lines = vaults.map((v) => `- ${v.name}  (id: ${v.id}, custody: ${v.mpc_custody ?? "server"}, created by: ${v.created_by_type}, ${v.created_at})`);
        return `Found ${vaults.length} vault(s):\n${lines.join("\n")}`;
      },
    }),
    tool({
      name: "list_secrets",
      description: "List the secrets in the vault: paths, types, versions and expiry, never values. Use it to see which credentials exist before fetching one.",
      input: { prefix: z.string().optional().describe("Optional path prefix to filter secrets (e.g. 'api-keys/')") },
      async run({ prefix }) {
        const { secrets } = ok(await sdk.secrets.list(vaultId, prefix));
        if (secrets.length === 0) return prefix ? `No secrets found under '${prefix}'.` : "No secrets found in this vault.";
        const lines = secrets.map((s) => `- ${s.path}  (type: ${s.type}, version: ${s.version}, expires: ${s.expires_at ?? "never"})`);
        return `Found ${secrets.length} secret(s):\n${lines.join("\n")}`;
      },
    }),
    tool({
      name: "get_secret",
      description:
        "Fetch the decrypted value of a secret by its path (e.g. 'api-keys/stripe'). Fetch it right before the call that needs it; do not store the value or repeat it in summaries.",
      input: { path: pathInput("api-keys/stripe' or 'passwords/db-prod") },
      async run({ path }) {
        const book = shares();
        const secret = ok(await readSecret(sdk, vaultId, path, book), path, book);
        return JSON.stringify({ path: secret.path, type: secret.type, version: secret.version, value: secret.value });
      },
    }),
    tool({
      name: "put_secret",
      description: "Store a secret, or a new value for an existing one: every call makes a new version. Optional metadata, expiry and maximum access count.",
      input: {
        path: pathInput("api-keys/stripe"),
        value: z.string().min(1).describe("The secret value to store"),
        type: z.string().regex(SECRET_TYPE).default("api_key").describe("Secret type, e.g. api_key, password, private_key, certificate, file, note, ssh_key, env_bundle"),
        metadata: z.record(z.string(), z.unknown()).optional().describe("Optional JSON metadata to attach to the secret"),
        expires_at: z.string().optional().describe("Optional ISO 8601 expiry time (e.g. '2030-12-31T23:59:59Z')"),
        max_access_count: z.number().int().positive().optional().describe("Optional number of reads after which the secret expires"),
      },
      async run({ path, value, type, metadata, expires_at, max_access_count }) {
        const written = await write(path, { value, type: type as WriteSecretBody["type"], metadata, expires_at, max_access_count });
        return `Secret stored at '${path}' (version ${written.version}, type: ${written.type}).${recorded(written)}`;
      },
    }),
    tool({
      name: "describe_secret",
      description: "Get a secret's metadata (id, type, version, metadata, creation and expiry) without its value: to check that it exists and is still valid before fetching it, or for its id to share it.",
      input: { path: pathInput("api-keys/stripe") },
      async run({ path }) {
        const { secrets } = ok(await sdk.secrets.list(vaultId, path));
        const meta = secrets.find((s) => s.path === path);
        if (!meta) throw new CliError(`No secret found at path '${path}'.`, EXIT.NOT_FOUND);
        // `id` (Shardvault's addition): the secret_id share_secret takes.
        return JSON.stringify({ id: meta.id, path: meta.path, type: meta.type, version: meta.version, metadata: meta.metadata ?? {}, created_at: meta.created_at, expires_at: meta.expires_at ?? null }, null, 2);
      },
    }),
    tool({
      name: "delete_secret",
      description: "Delete the secret at a path: every version is marked deleted (soft delete).",
      input: { path: pathInput("api-keys/old-stripe") },
      async run({ path }) {
        ok(await sdk.secrets.delete(vaultId, path), path);
        return `Secret at '${path}' has been deleted (every version).`;
      },
    }),
    tool({
      name: "rotate_and_store",
      description: "Store a new value for an existing secret (a new version, keeping its type; api_key for a new path) and answer the version number, e.g. after regenerating an API key.",
      input: { path: z.string().min(1).describe("Secret path to rotate"), value: z.string().min(1).describe("The new secret value") },
      async run({ path, value }) {
        const { secrets } = ok(await sdk.secrets.list(vaultId, path));
        const type = secrets.find((s) => s.path === path)?.type ?? "api_key";
        const written = await write(path, { value, type });
        return `Rotated secret at '${path}'. New version: ${written.version}.${recorded(written)}`;
      },
    }),
    tool({
      name: "get_env_bundle",
      description: "Fetch a secret of type env_bundle (or env), parse its KEY=VALUE lines and answer them as a JSON object, e.g. to set environment variables for a subprocess.",
      input: { path: z.string().min(1).describe("Path of an env_bundle secret") },
      async run({ path }) {
        const book = shares();
        const secret = ok(await readSecret(sdk, vaultId, path, book), path, book);
        if (!ENV_BUNDLE_TYPES.includes(secret.type)) throw new CliError(`Secret at '${path}' is of type '${secret.type}', not 'env_bundle'.`, EXIT.ERROR);
        return JSON.stringify(parseEnvBundle(secret.value), null, 2);
      },
    }),
    tool({
      name: "share_secret",
      description:
        "Share a specific secret with a user, agent, or your creator (the human who registered you). Use recipient_type 'creator' to share back with " +
        "the human who owns this agent — no recipient_id needed. For vault-wide access, use a policy instead.",
      input: {
        secret_id: z.string().uuid().describe("UUID of the secret entry to share (describe_secret answers it as id)"),
        recipient_type: z
          .enum(["user", "agent", "anyone_with_link", "creator"])
          .describe("Type of recipient: 'creator' (the human who registered this agent — recommended), 'user' (by UUID), 'agent' (by UUID), or 'anyone_with_link'"),
        recipient_id: z.string().uuid().optional().describe("UUID of the recipient user or agent (required for user/agent types, not needed for creator)"),
        expires_at: z.string().describe("ISO-8601 expiry date (e.g. '2026-12-31T00:00:00Z')"),
        max_access_count: z.number().int().positive().default(5).describe("Max number of times the secret can be accessed (default: 5)"),
      },
      async run({ secret_id, recipient_type, recipient_id, expires_at, max_access_count }) {
        if ((recipient_type === "user" || recipient_type === "agent") && !recipient_id) {
          throw new CliError(`recipient_id is required when sharing with a ${recipient_type}.`, EXIT.USAGE);
        }
        const share = await shareSecret(secret_id, { recipient_type, ...(recipient_id ? { recipient_id } : {}), expires_at, max_access_count });
        const recipient = recipient_type === "creator" ? "your creator (the human who registered this agent)" : `${recipient_type}${recipient_id ? ` (${recipient_id})` : ""}`;
        const how =
          recipient_type === "anyone_with_link"
            ? "Anyone holding the URL can open it until it expires or is used up."
            : "The recipient opens it with their own credentials and finds it among their inbound shares.";
        return [
          "Secret shared successfully.",
          `  Share ID: ${share.id}`,
          `  Recipient: ${recipient}`,
          `  Expires: ${share.expires_at}`,
          `  Max accesses: ${share.max_access_count ?? "unlimited"}`,
          `  URL: ${share.share_url}`,
          "",
          how,
        ].join("\n");
      },
    }),
  ];
}
