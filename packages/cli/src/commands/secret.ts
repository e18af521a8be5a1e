/** `shardvault secret put|get|list|versions|delete|rotate` */
import type { SecretMeta, SecretType, SecretWritten, ShardvaultClient } from "@shardvault/sdk";
import { args, client, positiveInt, str, type Context } from "../context.js";
import { unwrap, usageError } from "../errors.js";
import { readSecretValue, refuseArgvSecret } from "../input.js";
import { clientShareNotice, printJson, printRecord, printTable, warn } from "../output.js";
import { checkShareFile, clientSharesFrom, CLI_SHARE_HELP, readSecret, reconstructOption, recordShares, shareProblem, writeSecret } from "../shares.js";

/** `<vault-id> <path>`, or `<path>` with `--vault ID` (or SHARDVAULT_VAULT_ID). */
export function vaultAnd(ctx: Context, names: string[]): [string, ...string[]] {
  const flag = str(ctx.options, "vault");
  const env = ctx.env.SHARDVAULT_VAULT_ID;
  if (flag !== undefined) return [flag, ...args(ctx, names)];
  if (env && ctx.positionals.length === names.length) return [env, ...args(ctx, names)];
  const [vault, ...rest] = args(ctx, ["vault-id", ...names]);
  return [vault!, ...rest];
}

function metadataOf(ctx: Context): Record<string, unknown> | undefined {
  const raw = str(ctx.options, "metadata");
  if (raw === undefined) return undefined;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw usageError("--metadata must be a JSON object");
}

const metaColumns: Array<[string, (s: SecretMeta) => unknown]> = [
  ["PATH", (s) => s.path],
  ["VERSION", (s) => s.version],
  ["TYPE", (s) => s.type],
  ["CREATED", (s) => s.created_at],
  ["EXPIRES", (s) => s.expires_at],
];

/**
 * Prints a write's answer; a client share is announced loudly (worded for the vault's custody, which is looked
 * up; a failed lookup only makes the notice less specific) and, with --client-share-out, recorded in a share file.
 */
async function reportWrite(ctx: Context, sdk: ShardvaultClient, vaultId: string, written: SecretWritten, out: string | undefined): Promise<void> {
  const share = written.client_share;
  if (share !== undefined) {
    if (out !== undefined) recordShares(out, [{ path: written.path, version: written.version, client_share: share }]);
    clientShareNotice(1, out, (await sdk.vault.get(vaultId)).data ?? undefined);
  }
  if (ctx.json) {
    const { client_share, ...meta } = written;
    return printJson(out !== undefined || client_share === undefined ? { ...meta, ...(client_share !== undefined ? { client_share_file: out } : {}) } : written);
  }
  printRecord([
    ["PATH", written.path],
    ["VERSION", written.version],
    ["TYPE", written.type],
    ["CREATED", written.created_at],
  ]);
  if (share !== undefined && out === undefined) process.stdout.write(`Client share (store this): ${share}\n`);
}

function refuseArgv(ctx: Context): void {
  refuseArgvSecret(ctx.options.value !== undefined, "--value", "use --value-file FILE, standard input, or the prompt");
}

async function write(ctx: Context, sdk: ShardvaultClient, vault: string, path: string, verb: string): Promise<void> {
  const out = str(ctx.options, "client-share-out");
  if (out !== undefined) checkShareFile(out);
  const type = str(ctx.options, "type") as SecretType | undefined;
  const metadata = metadataOf(ctx);
  const expires_at = str(ctx.options, "expires-at");
  const max_access_count = positiveInt(str(ctx.options, "max-access-count"), "--max-access-count");
  const reconstruct = reconstructOption(str(ctx.options, "reconstruct"));
  const value = await readSecretValue(str(ctx.options, "value-file"), `${verb} value for ${path}`, ctx.options.trim === true);
  const written = unwrap(
    await writeSecret(
      sdk,
      vault,
      path,
      {
        value,
        ...(type !== undefined ? { type } : {}),
        ...(metadata !== undefined ? { metadata } : {}),
        ...(expires_at !== undefined ? { expires_at } : {}),
        ...(max_access_count !== undefined ? { max_access_count } : {}),
      },
      reconstruct,
    ),
  );
  await reportWrite(ctx, sdk, vault, written, out);
}

export const secretCommands = {
  async put(ctx: Context) {
    refuseArgv(ctx);
    const [vault, path] = vaultAnd(ctx, ["path"]);
    await write(ctx, client(ctx), vault, path!, "the");
  },

  async get(ctx: Context) {
    refuseArgvSecret(ctx.options["client-share"] !== undefined, "--client-share", "use --client-share-file FILE or SHARDVAULT_CLIENT_SHARE");
    const [vault, path] = vaultAnd(ctx, ["path"]);
    const version = positiveInt(str(ctx.options, "version"), "--version");
    const reconstruct = reconstructOption(str(ctx.options, "reconstruct"));
    const shares = clientSharesFrom(str(ctx.options, "client-share-file"), ctx.env);
    const secret = unwrap(await readSecret(client(ctx), vault, path!, shares, { version, reconstruct }), (error) => shareProblem(error, path!, shares, CLI_SHARE_HELP));
    if (ctx.json) return printJson(secret);
    // Just the value, so that it can be piped; a newline only for a terminal.
    process.stdout.write(secret.value + (process.stdout.isTTY ? "\n" : ""));
  },

  async list(ctx: Context) {
    const [vault] = vaultAnd(ctx, []);
    const limit = positiveInt(str(ctx.options, "limit"), "--limit");
    const cursor = str(ctx.options, "cursor");
    if (cursor !== undefined && limit === undefined) throw usageError("--cursor goes with --limit");
    const prefix = str(ctx.options, "prefix");
    const { secrets, next_cursor } = unwrap(await client(ctx).secrets.list(vault, prefix, { ...(limit !== undefined ? { limit } : {}), ...(cursor !== undefined ? { cursor } : {}) }));
    if (ctx.json) return printJson({ secrets, ...(next_cursor ? { next_cursor } : {}) });
    printTable(secrets, metaColumns);
    if (next_cursor) warn(`more: shardvault secret list ${vault}${prefix ? ` --prefix ${prefix}` : ""} --limit ${limit} --cursor ${next_cursor}`);
  },

  async versions(ctx: Context) {
    const [vault, path] = vaultAnd(ctx, ["path"]);
    const { versions } = unwrap(await client(ctx).secrets.listVersions(vault, path!));
    if (ctx.json) return printJson({ versions });
    printTable(versions, [...metaColumns.filter(([h]) => h !== "PATH"), ["DISABLED", (s) => (s.is_disabled ? "yes" : "no")]]);
  },

  async delete(ctx: Context) {
    const [vault, path] = vaultAnd(ctx, ["path"]);
    unwrap(await client(ctx).secrets.delete(vault, path!));
    if (ctx.json) printJson({ deleted: true, vault_id: vault, path });
    else process.stdout.write(`Deleted ${path} (every version)\n`);
  },

  /**
   * A new version: with `--generate` (or `--length`/`--charset`) the server generates the value; otherwise
   * the value comes from --value-file, standard input or the prompt, as for put.
   */
  async rotate(ctx: Context) {
    refuseArgv(ctx);
    const [vault, path] = vaultAnd(ctx, ["path"]);
    const length = positiveInt(str(ctx.options, "length"), "--length");
    const charset = str(ctx.options, "charset") as "hex" | "base64" | "alphanumeric" | "ascii" | undefined;
    const generate = ctx.options.generate === true || length !== undefined || charset !== undefined;
    if (!generate) return write(ctx, client(ctx), vault, path!, "the new");
    if (ctx.options["value-file"] !== undefined) throw usageError("--generate and --value-file exclude each other");
    if (str(ctx.options, "reconstruct") === "client") throw usageError("with --generate the server makes the value: it cannot be sealed on this machine (give the value instead)");
    const out = str(ctx.options, "client-share-out");
    if (out !== undefined) checkShareFile(out);
    const type = str(ctx.options, "type") as SecretType | undefined;
    const sdk = client(ctx);
    const written = unwrap(
      await sdk.secrets.rotateGenerate(vault, path!, {
        ...(length !== undefined ? { length } : {}),
        ...(charset !== undefined ? { charset } : {}),
        ...(type !== undefined ? { type } : {}),
      }),
    );
    await reportWrite(ctx, sdk, vault, written, out);
  },
};
