/** The command line: parsing, help, dispatch, and turning failures into messages and exit codes. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CUSTODY_MODE_NAMES } from "@shardvault/sdk";
import { agentCommands } from "./commands/agent.js";
import { envCommands } from "./commands/env.js";
import { login, logout } from "./commands/login.js";
import { mcp } from "./commands/mcp.js";
import { memberCommands } from "./commands/member.js";
import { policyCommands } from "./commands/policy.js";
import { mpcCommands, refreshSecret } from "./commands/mpc.js";
import { secretCommands } from "./commands/secret.js";
import { opsCommands, server } from "./commands/server.js";
import { sharingCommands } from "./commands/sharing.js";
import { vaultCommands } from "./commands/vault.js";
import type { Context, Options } from "./context.js";
import { CliError, EXIT } from "./errors.js";
import { VERSION } from "./version.js";

export { VERSION };

/** A command; it may resolve to its exit code (`run` answers the child's), else success is 0. */
type Handler = (ctx: Context) => Promise<void | number>;

/** Every option of every command (node:util parses them all; each command then says which it takes). */
const OPTIONS = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  url: { type: "string" },
  description: { type: "string" },
  mode: { type: "string" },
  providers: { type: "string" },
  type: { type: "string" },
  "value-file": { type: "string" },
  value: { type: "string" },
  metadata: { type: "string" },
  "expires-at": { type: "string" },
  "max-access-count": { type: "string" },
  "client-share-out": { type: "string" },
  "client-share-file": { type: "string" },
  "client-share": { type: "string" },
  reconstruct: { type: "string" },
  version: { type: "string" },
  prefix: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  generate: { type: "boolean" },
  length: { type: "string" },
  charset: { type: "string" },
  vault: { type: "string", short: "v", multiple: true },
  "vault-ids": { type: "string" },
  scopes: { type: "string" },
  "token-ttl": { type: "string" },
  "api-key-file": { type: "string" },
  "api-key": { type: "string" },
  "agent-id": { type: "string" },
  "no-verify": { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  name: { type: "string" },
  trim: { type: "boolean" },
  env: { type: "string", multiple: true },
  format: { type: "string" },
  email: { type: "string" },
  password: { type: "string" },
  agent: { type: "string" },
  user: { type: "string" },
  pattern: { type: "string" },
  permissions: { type: "string" },
  effect: { type: "string" },
  priority: { type: "string" },
  "ip-allowlist": { type: "string" },
  "not-before": { type: "string" },
  "not-after": { type: "string" },
  "no-conditions": { type: "boolean" },
  role: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  wait: { type: "boolean" },
  out: { type: "string" },
  "expires-in": { type: "string" },
  "passphrase-file": { type: "string" },
  creator: { type: "boolean" },
  inbound: { type: "boolean" },
} as const satisfies ParseArgsConfig["options"];

const GLOBAL = ["help", "json", "url"];

interface Command {
  run: Handler;
  usage: string;
  summary: string;
  options: string[];
  /** More lines for `shardvault <command> --help`. */
  details?: string[];
  /** Takes a command to run after `--` (the words after it are not its own arguments). */
  takesCommand?: boolean;
}

const WRITE_OPTIONS = ["type", "value-file", "value", "trim", "metadata", "expires-at", "max-access-count", "client-share-out", "reconstruct", "vault"];

const WRITE_DETAILS = [
  "The value: --value-file FILE is taken exactly as the file holds it, a final line break included (a note",
  "  says so); standard input loses one trailing newline (as echo adds one); --trim drops whitespace and",
  "  line breaks at both ends, whatever the source.",
  "Client custody: the value is sealed on this machine and only the sealed form goes to the server; the client",
  "  share made for it is shown once; --client-share-out FILE records it in a share file (mode 0600; a JSON",
  "  list of {path, version, client_share}; other entries stay) instead of printing it. --reconstruct server",
  "  sends the value for the server to seal instead (as 1claw's clients do). Other vaults: an ordinary write.",
];

const SHARE_FILE_DETAILS = [
  "Client shares: --client-share-file FILE, a share file (what --client-share-out writes: each path's share of",
  "  the version read) or a file holding one share; else SHARDVAULT_CLIENT_SHARE, else ONECLAW_CLIENT_SHARE.",
  "  The share stays on this machine: the server sends the sealed value and its own shares (X-Reconstruct:",
  "  client) and the value is rebuilt here. --reconstruct server sends the share for the server to rebuild it.",
];

const SELECTION_DETAILS = [
  "Which secrets: each --env NAME=path, and (with --prefix, or when no --env is given) every secret under the",
  "  prefix, named by its path less the prefix, upper-cased, every character but a letter or digit made _:",
  "  db/password under --prefix db/ is PASSWORD, db/replica-1/host is REPLICA_1_HOST; with no prefix",
  "  db/password is DB_PASSWORD. An --env name wins over a derived one; two paths giving one name are refused.",
  "The vault: --vault ID, else SHARDVAULT_VAULT_ID.",
  ...SHARE_FILE_DETAILS,
];

const COMMANDS: Record<string, Command> = {
  server: { run: server, usage: "server", summary: "run the vault server (the same as npm start; settings from the environment)", options: [] },
  "admin create-key": {
    run: opsCommands["admin create-key"],
    usage: "admin create-key [--email EMAIL]",
    summary: "on the server's machine: a new API key for an owner, shown once and audited (when the admin key is lost)",
    options: ["email"],
    details: [
      "Runs with the server's settings (DATABASE_URL or SHARDVAULT_DATA_DIR, SHARDVAULT_CONFIG), not over HTTP.",
      "The owner: the one with --email, else the first start's owner while it is one, else the earliest owner.",
      "On the embedded database, stop the server first (one process at a time uses its folder).",
    ],
  },
  backup: {
    run: opsCommands.backup,
    usage: "backup --out DIR",
    summary: "on the server's machine: the database (pg_dump, or PGlite's dump) and an inventory of the key material each slot needs",
    options: ["out"],
    details: ["Key files are never copied into the backup. The README's \"Backup and restore\" says how to restore. Embedded database: stop the server first."],
  },
  login: {
    run: login,
    usage: "login [--url URL] [--api-key-file FILE] [--agent-id ID] [--no-verify] | login --email EMAIL",
    summary: "check an API key and store it (from --api-key-file, standard input or a prompt); or sign in as a member (password from a prompt or standard input)",
    options: ["api-key-file", "api-key", "agent-id", "no-verify", "email", "password"],
  },
  logout: { run: logout, usage: "logout", summary: "forget the stored key", options: [] },
  "vault create": {
    run: vaultCommands.create,
    usage: "vault create <name> [--description TEXT] [--mode MODE [--providers a,b]]",
    summary: "create a vault, with MPC enabled at once when --mode is given",
    options: ["description", "mode", "providers", "name"],
  },
  "vault list": { run: vaultCommands.list, usage: "vault list", summary: "list vaults", options: [] },
  "vault get": { run: vaultCommands.get, usage: "vault get <vault-id>", summary: "show a vault", options: [] },
  "vault delete": {
    run: vaultCommands.delete,
    usage: "vault delete <vault-id> [--yes]",
    summary: "delete a vault and its secrets (asks first; --yes does not ask)",
    options: ["yes"],
    details: ["Without --yes it asks on the terminal; with no terminal to ask on (a script, a pipe) --yes is required."],
  },
  "vault enable-mpc": {
    run: vaultCommands["enable-mpc"],
    usage: "vault enable-mpc <vault-id> --mode MODE [--providers a,b] [--client-share-out FILE]",
    summary: `enable MPC: MODE is ${CUSTODY_MODE_NAMES.join(", ")} (or 2-of-2, 2-of-3)`,
    options: ["mode", "providers", "client-share-out"],
  },
  "secret put": {
    run: secretCommands.put,
    usage: "secret put <vault-id> <path> [--type TYPE] [--value-file FILE] [--trim] [--metadata JSON] [--expires-at TIME] [--max-access-count N] [--client-share-out FILE] [--reconstruct client|server]",
    summary: "write a new version (value from --value-file, standard input or a prompt)",
    options: WRITE_OPTIONS,
    details: WRITE_DETAILS,
  },
  "secret get": {
    run: secretCommands.get,
    usage: "secret get <vault-id> <path> [--version N] [--client-share-file FILE] [--reconstruct client|server]",
    summary: "print a secret's value (--json: with its metadata)",
    options: ["version", "client-share-file", "client-share", "reconstruct", "vault"],
    details: ["The value exactly, with a line break after it only when standard output is a terminal.", ...SHARE_FILE_DETAILS],
  },
  "secret list": {
    run: secretCommands.list,
    usage: "secret list <vault-id> [--prefix PREFIX] [--limit N [--cursor CURSOR]]",
    summary: "list secrets (latest versions, no values)",
    options: ["prefix", "limit", "cursor", "vault"],
    details: ["With --limit (1-1000), one page in path order; while more follow, the command for the next page goes to standard error (--json: next_cursor)."],
  },
  "secret versions": { run: secretCommands.versions, usage: "secret versions <vault-id> <path>", summary: "list a secret's versions", options: ["vault"] },
  "secret delete": { run: secretCommands.delete, usage: "secret delete <vault-id> <path>", summary: "delete a secret (every version)", options: ["vault", "yes"] },
  "secret rotate": {
    run: secretCommands.rotate,
    usage: "secret rotate <vault-id> <path> [--value-file FILE | --generate [--length N] [--charset hex|base64|alphanumeric|ascii]] [--client-share-out FILE] [--reconstruct client|server]",
    summary: "write a new version: a value you give, or one the server generates",
    options: [...WRITE_OPTIONS, "generate", "length", "charset"],
    details: WRITE_DETAILS,
  },
  "secret refresh": {
    run: refreshSecret,
    usage: "secret refresh <vault-id> <path> [--version N] [--client-share-file FILE] [--client-share-out FILE]",
    summary: "client custody: a new client share for a secret (the old one stops working); moves it onto a replacement slot",
    options: ["version", "client-share-file", "client-share", "client-share-out"],
  },
  "mpc rotate": {
    run: mpcCommands.rotate,
    usage: "mpc rotate <vault-id> [--wait]",
    summary: "a new KEK at every slot of the vault, every share re-wrapped, the old KEKs disabled (a job)",
    options: ["wait"],
  },
  "mpc replace-provider": {
    run: mpcCommands["replace-provider"],
    usage: "mpc replace-provider <vault-id> --from SLOT --to SLOT [--wait]",
    summary: "move the vault off a slot (a job); see the README's replacement procedure",
    options: ["from", "to", "wait"],
  },
  "mpc refresh": {
    run: mpcCommands.refresh,
    usage: "mpc refresh <vault-id> [--wait]",
    summary: "multi-HSM: every DEK re-split with fresh coefficients on the same slots (a job)",
    options: ["wait"],
  },
  "mpc job": { run: mpcCommands.job, usage: "mpc job <vault-id> <job-id> [--wait]", summary: "a lifecycle job's status and progress", options: ["wait"] },
  "agent create": {
    run: agentCommands.create,
    usage: "agent create <name> [--vault-ids a,b] [--scopes a,b] [--description TEXT] [--token-ttl SECONDS] [--expires-at TIME]",
    summary: "register an agent (its ocv_ key is shown once)",
    options: ["vault-ids", "vault", "scopes", "description", "token-ttl", "expires-at", "name"],
  },
  "agent list": { run: agentCommands.list, usage: "agent list", summary: "list agents", options: [] },
  "agent rotate-key": { run: agentCommands["rotate-key"], usage: "agent rotate-key <agent-id>", summary: "give an agent a new key (shown once)", options: [] },
  run: {
    run: envCommands.run,
    usage: "run --vault ID [--prefix P] [--env NAME=path …] [--client-share-file FILE] [--reconstruct client|server] -- command args…",
    summary: "run a command with secrets in its environment",
    options: ["vault", "prefix", "env", "client-share-file", "reconstruct"],
    takesCommand: true,
    details: [
      ...SELECTION_DETAILS,
      "The command runs without a shell, with this environment plus the secrets; the values never touch a file",
      "  or the command line. SIGINT, SIGTERM and SIGHUP are passed on to it; shardvault exits with its exit",
      "  code (128 + the signal's number when a signal ended it; 127 when it is not found).",
    ],
  },
  export: {
    run: envCommands.export,
    usage: "export --vault ID [--prefix P] [--env NAME=path …] [--client-share-file FILE] [--reconstruct client|server] [--format dotenv|json]",
    summary: "print secrets as a .env file (or a JSON object)",
    options: ["vault", "prefix", "env", "client-share-file", "reconstruct", "format"],
    details: [
      ...SELECTION_DETAILS,
      "dotenv: NAME=value lines; a value of letters, digits and _ . / : @ % + , = - stays bare, any other value",
      "  goes in single quotes (nothing inside is interpreted: $, \\, quotes and line breaks are literal), and",
      "  one holding a single quote in double quotes with \\ \" $ ` escaped by a backslash.",
    ],
  },
  mcp: {
    run: mcp,
    usage: "mcp [--vault ID] [--client-share-file FILE]",
    summary: "serve the vault's secrets to AI agents over MCP (stdio), as 1claw-mcp does",
    options: ["vault", "client-share-file"],
    details: [
      "Tools: list_vaults, list_secrets, get_secret, put_secret, describe_secret, delete_secret, rotate_and_store,",
      "  get_env_bundle (a secret of type env_bundle or env, as KEY=VALUE lines), share_secret.",
      "Settings, as 1claw-mcp reads them: ONECLAW_VAULT_ID (or --vault), ONECLAW_AGENT_ID + ONECLAW_AGENT_API_KEY",
      "  (or ONECLAW_AGENT_TOKEN), ONECLAW_BASE_URL (else --url, SHARDVAULT_URL, the stored URL).",
      "Client-custody vaults: --client-share-file FILE, a share file; writes record their new shares in it.",
    ],
  },
  "policy add": {
    run: policyCommands.add,
    usage:
      "policy add <vault-id> (--agent ID | --user ID) --permissions read,write,delete,rotate [--pattern GLOB] [--effect allow|deny] [--priority N] [--expires-at TIME] [--ip-allowlist a,b] [--not-before TIME] [--not-after TIME]",
    summary: "grant (or deny) an agent or member access to paths of a vault (--pattern: * one segment, ** any; default **)",
    options: ["agent", "user", "permissions", "pattern", "effect", "priority", "expires-at", "ip-allowlist", "not-before", "not-after"],
  },
  "policy list": { run: policyCommands.list, usage: "policy list <vault-id>", summary: "list a vault's policies", options: [] },
  "policy update": {
    run: policyCommands.update,
    usage:
      "policy update <vault-id> <policy-id> [--permissions a,b] [--effect allow|deny] [--priority N] [--expires-at TIME|never] [--ip-allowlist a,b] [--not-before TIME] [--not-after TIME] [--no-conditions]",
    summary: "change what a policy grants (its pattern and grantee stay)",
    options: ["permissions", "effect", "priority", "expires-at", "ip-allowlist", "not-before", "not-after", "no-conditions"],
  },
  "policy rm": { run: policyCommands.rm, usage: "policy rm <vault-id> <policy-id>", summary: "delete a policy (counts from the next request)", options: [] },
  "share create": {
    run: sharingCommands.create,
    usage:
      "share create <vault-id> <path> [--version N] [--user ID | --agent ID | --email ADDRESS | --creator] [--expires-in 1d | --expires-at TIME] [--max-access-count N] [--passphrase-file FILE] [--ip-allowlist a,b] [--client-share-file FILE]",
    summary: "share a secret version (the newest readable one unless --version): a link anyone holding it may open, or a share for a member or an agent",
    options: ["vault", "version", "user", "agent", "email", "creator", "expires-in", "expires-at", "max-access-count", "passphrase-file", "ip-allowlist", "client-share-file"],
    details: [
      "Without --user, --agent or --email the share is a link: whoever has it opens it (with the passphrase, from",
      "  the allowed addresses, when given). --email records the address; nothing is sent: hand the link on.",
      "  --creator (agents): a share for the user who registered the agent. Every share expires (--expires-in,",
      "  default 1d; or --expires-at) and may open at most --max-access-count times.",
      "The passphrase comes from --passphrase-file FILE (- for standard input), never from the command line.",
      "Client custody: the version's client share is needed (as for `secret get`); the link then carries the key",
      "  that opens the share (#k=…), shown this once.",
    ],
  },
  "share open": {
    run: sharingCommands.open,
    usage: "share open <link-or-id> [--passphrase-file FILE]",
    summary: "print a shared value (a link opens on its own server; no login needed for links)",
    options: ["passphrase-file"],
    details: [
      "Shares made for a member or an agent open with your credentials (SHARDVAULT_API_KEY or the stored ones),",
      "  which go only to your own server (--url, SHARDVAULT_URL, the stored URL), never to another a link names.",
    ],
  },
  "share rm": { run: sharingCommands.rm, usage: "share rm <share-id>", summary: "revoke a share (it stops opening at once)", options: [] },
  "share ls": { run: sharingCommands.ls, usage: "share ls [--inbound]", summary: "list the shares you made (--inbound: those made for you)", options: ["inbound"] },
  "share accept": { run: sharingCommands.accept, usage: "share accept <share-id>", summary: "accept a share made for you", options: [] },
  "share decline": { run: sharingCommands.decline, usage: "share decline <share-id>", summary: "decline a share made for you (it stops opening)", options: [] },
  "member invite": {
    run: memberCommands.invite,
    usage: "member invite <email> [--role owner|admin|member]",
    summary: "invite a member (the invitation token is shown once)",
    options: ["role"],
  },
  "member list": { run: memberCommands.list, usage: "member list", summary: "list the organization's members", options: [] },
  "member role": { run: memberCommands.role, usage: "member role <user-id> <owner|admin|member>", summary: "change a member's role", options: [] },
  "member rm": { run: memberCommands.rm, usage: "member rm <user-id>", summary: "remove a member (their keys and sessions stop at once)", options: [] },
};

const GROUPS = ["admin", "vault", "secret", "share", "agent", "policy", "member", "mpc"];

/** Other names people type (1claw's CLI says `secret set` and `ls`); not listed in the help. */
const ALIASES: Record<string, string> = {
  "vault ls": "vault list",
  "secret ls": "secret list",
  "secret set": "secret put",
  "agent ls": "agent list",
  "policy ls": "policy list",
  "member ls": "member list",
  "share list": "share ls",
  "share revoke": "share rm",
};

export function helpText(group?: string): string {
  const entries = Object.entries(COMMANDS).filter(([name]) => group === undefined || name.startsWith(`${group} `));
  const width = Math.max(...entries.map(([, c]) => c.usage.split(" [")[0]!.length));
  const lines = [
    `shardvault ${VERSION} — the Shardvault command line`,
    "",
    `Usage: shardvault ${group ?? "<command>"} ${group ? "<command>" : ""} [options]`.replace(/\s+\[/, " ["),
    "",
    "Commands:",
    ...entries.map(([, c]) => `  ${c.usage.split(" [")[0]!.padEnd(width)}  ${c.summary}`),
    "",
    "Global options:",
    "  --json        JSON output for scripts (tables by default)",
    "  --url URL     the server (default: SHARDVAULT_URL, the URL stored at login, http://127.0.0.1:8787)",
    "  -h, --help    this help; `shardvault <command> --help` for a command's options",
    "",
    "Credentials: SHARDVAULT_API_KEY, else the key stored by `shardvault login` in",
    "  ${XDG_CONFIG_HOME:-~/.config}/shardvault/config.json (mode 0600; SHARDVAULT_CLI_CONFIG names another file).",
    "Secret values never come from the command line: --value-file FILE, standard input, or a prompt.",
    "Client shares for reads: --client-share-file FILE (a share file, as --client-share-out writes it, or one",
    "  share), else SHARDVAULT_CLIENT_SHARE, else ONECLAW_CLIENT_SHARE.",
    "Client-custody values are rebuilt and sealed on this machine: neither they nor client shares go to the",
    "  server (--reconstruct server on get, put, rotate, run and export: the server does it, as with 1claw).",
    "",
    "Exit codes: 0 success, 1 other error, 2 usage, 3 not found, 4 authentication or permission,",
    "  5 server or key provider unavailable (5xx, 503, no answer); `run` exits with its command's code.",
  ];
  return lines.join("\n") + "\n";
}

function commandHelp(command: Command): string {
  const details = command.details ? `\n${command.details.join("\n")}\n` : "";
  return `Usage: shardvault ${command.usage}\n\n${command.summary}\n${details}\nGlobal options: --json, --url URL, -h/--help\n`;
}

/** Runs the command line; resolves to the exit code. */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // The words after `--` are never options: the command `run` runs, or (for other commands) arguments that
  // may start with a dash.
  const dashes = argv.indexOf("--");
  const own = dashes === -1 ? argv : argv.slice(0, dashes);
  const after = dashes === -1 ? undefined : argv.slice(dashes + 1);
  let json = own.includes("--json");
  try {
    if (own.length === 1 && (own[0] === "--version" || own[0] === "-V")) {
      process.stdout.write(`${VERSION}\n`);
      return EXIT.OK;
    }
    let parsed: { values: Options; positionals: string[] };
    try {
      parsed = parseArgs({ args: own, options: OPTIONS, allowPositionals: true, strict: true }) as typeof parsed;
    } catch (error) {
      throw new CliError(`${(error as Error).message}\nRun \`shardvault --help\` for usage.`, EXIT.USAGE);
    }
    const { values, positionals } = parsed;
    json = values.json === true;
    const [first, second] = positionals;

    if (first === undefined) {
      if (values.help) {
        process.stdout.write(helpText());
        return EXIT.OK;
      }
      process.stderr.write(helpText());
      return EXIT.USAGE;
    }
    if (first === "help") {
      process.stdout.write(helpText(GROUPS.includes(second ?? "") ? second : undefined));
      return EXIT.OK;
    }
    const isGroup = GROUPS.includes(first);
    const name = isGroup ? (second === undefined ? undefined : `${first} ${second}`) : first;
    const command = name === undefined ? undefined : COMMANDS[ALIASES[name] ?? name];
    if (!command) {
      if (isGroup && (second === undefined || values.help)) {
        (values.help ? process.stdout : process.stderr).write(helpText(first));
        return values.help ? EXIT.OK : EXIT.USAGE;
      }
      throw new CliError(`unknown command: ${[first, second].filter(Boolean).join(" ")}\nRun \`shardvault --help\` for usage.`, EXIT.USAGE);
    }
    if (values.help) {
      process.stdout.write(commandHelp(command));
      return EXIT.OK;
    }
    const allowed = new Set([...GLOBAL, ...command.options]);
    const unexpected = Object.keys(values).filter((option) => values[option] !== undefined && !allowed.has(option));
    if (unexpected.length > 0) {
      throw new CliError(`shardvault ${name} does not take --${unexpected.join(", --")}\nUsage: shardvault ${command.usage}`, EXIT.USAGE);
    }
    const rest = positionals.slice(isGroup ? 2 : 1);
    const ctx: Context = command.takesCommand
      ? { positionals: rest, options: values, json, env, ...(after !== undefined ? { command: after } : {}) }
      : { positionals: [...rest, ...(after ?? [])], options: values, json, env };
    return (await command.run(ctx)) ?? EXIT.OK;
  } catch (error) {
    if (error instanceof CliError) {
      if (json && error.apiError) printJsonError(error);
      else process.stderr.write(`shardvault: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`shardvault: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT.ERROR;
  }
}

/** With --json, an API failure is a JSON object too, on standard error like every failure. */
function printJsonError(error: CliError): void {
  process.stderr.write(JSON.stringify({ error: error.apiError!.error, status: error.apiError!.status }, null, 2) + "\n");
}
