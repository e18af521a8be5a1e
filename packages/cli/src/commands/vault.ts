/** `shardvault vault create|list|get|delete|enable-mpc` */
import { CUSTODY_MODE_NAMES, MPC_CUSTODY_VALUES, type EnableMpcBody, type Vault, type VaultMpcEnabled } from "@shardvault/sdk";
import { args, client, nameArg, list, str, type Context } from "../context.js";
import { unwrap, usageError } from "../errors.js";
import { confirm } from "../input.js";
import { clientShareNotice, printJson, printRecord, printTable } from "../output.js";
import { checkShareFile, recordShares } from "../shares.js";

function mpcBody(mode: string | undefined, providers: string | undefined): EnableMpcBody | undefined {
  if (mode === undefined) {
    if (providers !== undefined) throw usageError("--providers needs --mode");
    return undefined;
  }
  const names: readonly string[] = CUSTODY_MODE_NAMES;
  if (!(MPC_CUSTODY_VALUES as readonly string[]).includes(mode)) {
    throw usageError(`--mode must be one of ${MPC_CUSTODY_VALUES.join(", ")}`);
  }
  const body: EnableMpcBody = names.includes(mode) ? { custody_mode: mode as (typeof CUSTODY_MODE_NAMES)[number] } : { mpc_custody: mode as (typeof MPC_CUSTODY_VALUES)[number] };
  const slots = list(providers);
  return slots ? { ...body, providers: slots } : body;
}

function showVault(vault: Vault): void {
  printRecord([
    ["ID", vault.id],
    ["NAME", vault.name],
    ["DESCRIPTION", vault.description],
    ["MPC", vault.mpc_custody ?? "off"],
    ["PROVIDERS", vault.mpc_providers],
    ["CMEK", vault.cmek_enabled ? "on" : "off"],
    ["CREATED", vault.created_at],
  ]);
}

export const vaultCommands = {
  async create(ctx: Context) {
    const name = nameArg(ctx);
    const mpc = mpcBody(str(ctx.options, "mode"), str(ctx.options, "providers"));
    const description = str(ctx.options, "description");
    const vault = unwrap(await client(ctx).vault.create({ name, ...(description !== undefined ? { description } : {}), ...mpc }));
    if (ctx.json) printJson(vault);
    else showVault(vault);
  },

  async list(ctx: Context) {
    args(ctx, []);
    const { vaults } = unwrap(await client(ctx).vault.list());
    if (ctx.json) return printJson({ vaults });
    printTable(vaults, [
      ["ID", (v) => v.id],
      ["NAME", (v) => v.name],
      ["MPC", (v) => v.mpc_custody ?? "off"],
      ["CREATED", (v) => v.created_at],
    ]);
  },

  async get(ctx: Context) {
    const [id] = args(ctx, ["vault-id"]);
    const vault = unwrap(await client(ctx).vault.get(id!));
    if (ctx.json) printJson(vault);
    else showVault(vault);
  },

  /** Asks first (the vault's secrets go with it), unless --yes; without a terminal to ask on, --yes is required. */
  async delete(ctx: Context) {
    const [id] = args(ctx, ["vault-id"]);
    const sdk = client(ctx);
    if (ctx.options.yes !== true) {
      await confirm(
        async () => {
          const vault = unwrap(await sdk.vault.get(id!));
          return `Delete vault ${vault.name} (${vault.id}) and every secret in it?`;
        },
        "vault delete",
        "--yes",
      );
    }
    unwrap(await sdk.vault.delete(id!));
    if (ctx.json) printJson({ deleted: true, id });
    else process.stdout.write(`Deleted vault ${id}\n`);
  },

  async "enable-mpc"(ctx: Context) {
    const [id] = args(ctx, ["vault-id"]);
    const mode = str(ctx.options, "mode");
    if (mode === undefined) throw usageError(`--mode is required: one of ${MPC_CUSTODY_VALUES.join(", ")}`);
    const out = str(ctx.options, "client-share-out");
    if (out !== undefined) checkShareFile(out);
    const vault: VaultMpcEnabled = unwrap(await client(ctx).vault.enableMpc(id!, mpcBody(mode, str(ctx.options, "providers"))!));
    // Versions written before were re-protected: their client shares are in this answer, once.
    const shares = vault.client_shares ?? [];
    if (shares.length > 0) {
      if (out !== undefined) recordShares(out, shares);
      clientShareNotice(shares.length, out, vault);
    }
    if (ctx.json) return printJson(out !== undefined ? { ...vault, client_shares: undefined, client_shares_file: shares.length ? out : undefined } : vault);
    showVault(vault);
    if (shares.length > 0 && out === undefined) {
      process.stdout.write("\nClient shares of the existing versions (store these):\n");
      printTable(shares, [
        ["PATH", (s) => s.path],
        ["VERSION", (s) => s.version],
        ["CLIENT_SHARE", (s) => s.client_share],
      ]);
    }
  },
};
