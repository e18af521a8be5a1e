/** `shardvault mpc rotate|replace-provider|refresh|job` and `shardvault secret refresh`: the MPC key lifecycle. */
import type { MpcJob, ShardvaultClient } from "@shardvault/sdk";
import { args, client, positiveInt, str, type Context } from "../context.js";
import { unwrap, usageError } from "../errors.js";
import { refuseArgvSecret } from "../input.js";
import { clientShareNotice, printJson, printRecord } from "../output.js";
import { checkShareFile, clientSharesFrom, CLI_SHARE_HELP, recordShares, shareProblem } from "../shares.js";

const POLL_MS = 500;

function showJob(ctx: Context, job: MpcJob): void {
  if (ctx.json) return printJson(job);
  printRecord([
    ["JOB", job.id],
    ["KIND", job.kind],
    ["STATUS", job.status],
    ["PROGRESS", `${job.processed}/${job.total}`],
    ["ERROR", job.error],
  ]);
}

/** Shows a job; with --wait, once it has ended. */
async function follow(ctx: Context, sdk: ShardvaultClient, vaultId: string, jobId: string): Promise<void> {
  let job = unwrap(await sdk.vault.mpc.job(vaultId, jobId));
  while (ctx.options.wait === true && (job.status === "pending" || job.status === "running")) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    job = unwrap(await sdk.vault.mpc.job(vaultId, jobId));
  }
  showJob(ctx, job);
}

async function start(ctx: Context, call: (sdk: ShardvaultClient, vaultId: string) => ReturnType<ShardvaultClient["vault"]["mpc"]["rotate"]>): Promise<void> {
  const [vaultId] = args(ctx, ["vault-id"]);
  const sdk = client(ctx);
  const started = unwrap(await call(sdk, vaultId!));
  await follow(ctx, sdk, vaultId!, started.job_id);
}

export const mpcCommands = {
  rotate: (ctx: Context) => start(ctx, (sdk, vaultId) => sdk.vault.mpc.rotate(vaultId)),

  "replace-provider": (ctx: Context) => {
    const from = str(ctx.options, "from");
    const to = str(ctx.options, "to");
    if (from === undefined || to === undefined) throw usageError("--from SLOT and --to SLOT are required");
    return start(ctx, (sdk, vaultId) => sdk.vault.mpc.replaceProvider(vaultId, { from, to }));
  },

  refresh: (ctx: Context) => start(ctx, (sdk, vaultId) => sdk.vault.mpc.refresh(vaultId)),

  async job(ctx: Context) {
    const [vaultId, jobId] = args(ctx, ["vault-id", "job-id"]);
    await follow(ctx, client(ctx), vaultId!, jobId!);
  },
};

/**
 * `secret refresh`: a client-custody secret's new client share, recorded in a share file (the one read from
 * may be named again: its entry is replaced) or shown once; the old share stops working.
 */
export async function refreshSecret(ctx: Context): Promise<void> {
  refuseArgvSecret(ctx.options["client-share"] !== undefined, "--client-share", "use --client-share-file FILE or SHARDVAULT_CLIENT_SHARE");
  const [vaultId, path] = args(ctx, ["vault-id", "path"]);
  const out = str(ctx.options, "client-share-out");
  if (out !== undefined) checkShareFile(out);
  const version = positiveInt(str(ctx.options, "version"), "--version");
  const shares = clientSharesFrom(str(ctx.options, "client-share-file"), ctx.env);
  const share = shares.forPath(path!, version);
  if (share === undefined) throw usageError(`refreshing ${path} needs its current client share: ${CLI_SHARE_HELP}`);
  const sdk = client(ctx);
  const refreshed = unwrap(await sdk.secrets.refresh(vaultId!, path!, share, version !== undefined ? { version } : {}), (error) =>
    shareProblem(error, path!, shares, CLI_SHARE_HELP),
  );
  if (out !== undefined) recordShares(out, [{ path: path!, version: refreshed.version, client_share: refreshed.client_share }]);
  // Worded from the vault's custody (what losing the share means differs by mode).
  clientShareNotice(1, out, (await sdk.vault.get(vaultId!)).data ?? undefined);
  if (ctx.json) return printJson(out !== undefined ? { version: refreshed.version, client_share_file: out } : refreshed);
  printRecord([
    ["PATH", path],
    ["VERSION", refreshed.version],
  ]);
  if (out === undefined) process.stdout.write(`Client share (store this; the old one no longer works): ${refreshed.client_share}\n`);
}
