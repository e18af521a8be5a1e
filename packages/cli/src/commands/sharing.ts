/** `shardvault share create|open|rm|ls|accept|decline`: sharing one secret version. */
import { createClient, parseShareLink, type CreateShareBody, type ShareCreated, type ShareSummary } from "@shardvault/sdk";
import { args, client, credentials, list, positiveInt, serverUrl, str, type Context } from "../context.js";
import { CliError, EXIT, unwrap, usageError } from "../errors.js";
import { readFileValue } from "../input.js";
import { printJson, printRecord, printTable, warn } from "../output.js";
import { clientSharesFrom, CLI_SHARE_HELP, shareProblem } from "../shares.js";
import { vaultAnd } from "./secret.js";

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--expires-at TIME`, else now + `--expires-in N(m|h|d)` (default 1d). */
function expiryOf(ctx: Context): string {
  const at = str(ctx.options, "expires-at");
  const within = str(ctx.options, "expires-in");
  if (at !== undefined && within !== undefined) throw usageError("--expires-at and --expires-in exclude each other");
  if (at !== undefined) return at;
  const match = /^([1-9][0-9]{0,5})([mhd])$/.exec(within ?? "1d");
  if (!match) throw usageError("--expires-in is a number and a unit: 30m, 12h, 7d");
  return new Date(Date.now() + Number(match[1]) * UNITS[match[2]!]!).toISOString();
}

/** Who the share is for: `--user ID`, `--agent ID`, `--email ADDRESS`, `--creator`, or (none) anyone with the link. */
function recipientOf(ctx: Context): Pick<CreateShareBody, "recipient_type" | "recipient_id" | "email"> {
  const user = str(ctx.options, "user");
  const agent = str(ctx.options, "agent");
  const email = str(ctx.options, "email");
  const creator = ctx.options.creator === true;
  if ([user, agent, email].filter((x) => x !== undefined).length + (creator ? 1 : 0) > 1) throw usageError("name one recipient: --user, --agent, --email or --creator");
  if (user !== undefined) return { recipient_type: "user", recipient_id: user };
  if (agent !== undefined) return { recipient_type: "agent", recipient_id: agent };
  if (email !== undefined) return { recipient_type: "external_email", email };
  return { recipient_type: creator ? "creator" : "anyone_with_link" };
}

/** `--passphrase-file FILE` (`-`: standard input), one trailing line break dropped; never from the command line. */
function passphraseOf(ctx: Context): string | undefined {
  const file = str(ctx.options, "passphrase-file");
  if (file === undefined) return undefined;
  const passphrase = readFileValue(file, "the passphrase").replace(/\r?\n$/, "");
  if (passphrase === "") throw usageError(`${file} holds no passphrase`);
  return passphrase;
}

function showCreated(ctx: Context, created: ShareCreated): void {
  if (created.share_url.includes("#k=")) {
    warn("The link carries the key that opens this share (client custody). It is shown ONCE and the server does not keep it: hand the whole link on.");
  }
  if (ctx.json) return printJson(created);
  printRecord([
    ["ID", created.id],
    ["URL", created.share_url],
    ["RECIPIENT", created.recipient_email ? `${created.recipient_type} ${created.recipient_email}` : created.recipient_type],
    ["EXPIRES", created.expires_at],
    ["MAX_OPENS", created.max_access_count ?? "no limit"],
  ]);
}

/** A command that does one thing to one share: revoke it (its creator), accept or decline it (its recipient). */
function onShare(action: "revoke" | "accept" | "decline", done: string, said: string) {
  return async (ctx: Context) => {
    const [shareId] = args(ctx, ["share-id"]);
    unwrap(await client(ctx).sharing[action](shareId!));
    if (ctx.json) printJson({ id: shareId, [done]: true });
    else process.stdout.write(`${said} share ${shareId}\n`);
  };
}

export const sharingCommands = {
  async create(ctx: Context) {
    const [vault, path] = vaultAnd(ctx, ["path"]);
    const version = positiveInt(str(ctx.options, "version"), "--version");
    const max = positiveInt(str(ctx.options, "max-access-count"), "--max-access-count");
    const passphrase = passphraseOf(ctx);
    const ipAllowlist = list(str(ctx.options, "ip-allowlist"));
    const body: CreateShareBody = {
      ...recipientOf(ctx),
      expires_at: expiryOf(ctx),
      ...(max !== undefined ? { max_access_count: max } : {}),
      ...(passphrase !== undefined ? { passphrase } : {}),
      ...(ipAllowlist !== undefined ? { ip_allowlist: ipAllowlist } : {}),
    };
    const sdk = client(ctx);
    // The API shares a version by its id: the one asked for, else the newest readable one.
    const { versions } = unwrap(await sdk.secrets.listVersions(vault, path!));
    const target = versions.filter((v) => (version === undefined ? !v.is_disabled : v.version === version)).sort((a, b) => b.version - a.version)[0];
    if (!target) throw new CliError(version === undefined ? `${path} has no readable version` : `${path} has no version ${version}`, EXIT.NOT_FOUND);
    const shares = clientSharesFrom(str(ctx.options, "client-share-file"), ctx.env);
    const clientShare = shares.forPath(path!, target.version);
    const created = unwrap(await sdk.sharing.create(target.id, body, clientShare !== undefined ? { clientShare } : {}), (error) => shareProblem(error, path!, shares, CLI_SHARE_HELP));
    showCreated(ctx, created);
  },

  /**
   * Prints a shared value. A link opens on its own server (unless --url says otherwise); the caller's credentials
   * go only to the server they belong to, never to one a link names.
   */
  async open(ctx: Context) {
    const [link] = args(ctx, ["link-or-id"]);
    const fromLink = parseShareLink(link!).id && /^https?:\/\//i.test(link!) ? link!.slice(0, link!.search(/\/share\/[^/]+(#.*)?$/)) : undefined;
    const baseUrl = str(ctx.options, "url") ?? fromLink ?? serverUrl(ctx);
    const passphrase = passphraseOf(ctx);
    const own = baseUrl.replace(/\/+$/, "") === serverUrl(ctx).replace(/\/+$/, "");
    const sdk = createClient({ ...(own ? credentials(ctx) : {}), baseUrl });
    const opened = unwrap(await sdk.sharing.access(link!, passphrase !== undefined ? { passphrase } : {}), (error) =>
      error.code === "passphrase_required" ? "this share has a passphrase: give it with --passphrase-file FILE (- for standard input)" : undefined,
    );
    if (ctx.json) return printJson(opened);
    process.stdout.write(opened.value + (process.stdout.isTTY ? "\n" : ""));
  },

  rm: onShare("revoke", "revoked", "Revoked"),

  /** The shares you made, or with --inbound those made for you. */
  async ls(ctx: Context) {
    args(ctx, []);
    const sharing = client(ctx).sharing;
    const { shares } = unwrap(ctx.options.inbound === true ? await sharing.listInbound() : await sharing.listOutbound());
    if (ctx.json) return printJson({ shares });
    printTable<ShareSummary>(shares, [
      ["ID", (s) => s.id],
      ["PATH", (s) => s.secret_path],
      ["RECIPIENT", (s) => (s.recipient_email ? `${s.recipient_type} ${s.recipient_email}` : s.recipient_type)],
      ["OPENS", (s) => `${s.access_count}/${s.max_access_count ?? "∞"}`],
      ["EXPIRES", (s) => s.expires_at],
      ["STATE", (s) => (s.is_expired ? "gone" : s.is_accepted ? "accepted" : "open")],
    ]);
  },

  accept: onShare("accept", "accepted", "Accepted"),
  decline: onShare("decline", "declined", "Declined"),
};
