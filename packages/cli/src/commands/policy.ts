/** `shardvault policy add|list|update|rm`: who may do what on which secret paths of a vault. */
import type { Policy, PolicyEffect, PolicyPermission, UpdatePolicyBody } from "@shardvault/sdk";
import { args, client, list, str, type Context, type Options } from "../context.js";
import { unwrap, usageError } from "../errors.js";
import { printJson, printRecord, printTable } from "../output.js";

const PERMISSIONS = ["read", "write", "delete", "rotate"];

function permissionsOf(options: Options): PolicyPermission[] | undefined {
  const permissions = list(str(options, "permissions"));
  const unknown = permissions?.find((p) => !PERMISSIONS.includes(p));
  if (unknown !== undefined) throw usageError(`--permissions: ${unknown} is not one of ${PERMISSIONS.join(", ")}`);
  if (permissions?.length === 0) throw usageError("--permissions needs at least one permission");
  return permissions as PolicyPermission[] | undefined;
}

function effectOf(options: Options): PolicyEffect | undefined {
  const effect = str(options, "effect");
  if (effect !== undefined && effect !== "allow" && effect !== "deny") throw usageError("--effect is allow or deny");
  return effect;
}

function priorityOf(options: Options): number | undefined {
  const priority = str(options, "priority");
  if (priority === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(priority)) throw usageError("--priority must be an integer ≥ 0");
  return Number(priority);
}

/** `--ip-allowlist a,b`, `--not-before TIME`, `--not-after TIME`; `--no-conditions` clears them (update). */
function conditionsOf(options: Options): Record<string, unknown> | undefined {
  const ipAllowlist = list(str(options, "ip-allowlist"));
  const notBefore = str(options, "not-before");
  const notAfter = str(options, "not-after");
  if (ipAllowlist === undefined && notBefore === undefined && notAfter === undefined) return options["no-conditions"] === true ? {} : undefined;
  return { ...(ipAllowlist ? { ip_allowlist: ipAllowlist } : {}), ...(notBefore ? { not_before: notBefore } : {}), ...(notAfter ? { not_after: notAfter } : {}) };
}

function show(ctx: Context, policy: Policy): void {
  if (ctx.json) return printJson(policy);
  printRecord([
    ["ID", policy.id],
    ["PRINCIPAL", `${policy.principal_type}:${policy.principal_id}`],
    ["PATTERN", policy.secret_path_pattern],
    ["PERMISSIONS", policy.permissions],
    ["EFFECT", policy.effect],
    ["PRIORITY", policy.priority],
    ["CONDITIONS", Object.keys(policy.conditions).length ? JSON.stringify(policy.conditions) : "-"],
    ["EXPIRES", policy.expires_at],
  ]);
}

export const policyCommands = {
  async add(ctx: Context) {
    const [vaultId] = args(ctx, ["vault-id"]);
    const agent = str(ctx.options, "agent");
    const user = str(ctx.options, "user");
    if ((agent === undefined) === (user === undefined)) throw usageError("name the grantee with --agent ID or --user ID (one of them)");
    const permissions = permissionsOf(ctx.options);
    if (!permissions) throw usageError("--permissions is required (read, write, delete, rotate; comma-separated)");
    const effect = effectOf(ctx.options);
    const priority = priorityOf(ctx.options);
    const conditions = conditionsOf(ctx.options);
    const expires_at = str(ctx.options, "expires-at");
    const options = {
      secretPathPattern: str(ctx.options, "pattern") ?? "**",
      ...(effect !== undefined ? { effect } : {}),
      ...(priority !== undefined ? { priority } : {}),
      ...(conditions !== undefined ? { conditions } : {}),
      ...(expires_at !== undefined ? { expires_at } : {}),
    };
    const access = client(ctx).access;
    show(ctx, unwrap(agent !== undefined ? await access.grantAgent(vaultId!, agent, permissions, options) : await access.grantHuman(vaultId!, user!, permissions, options)));
  },

  async list(ctx: Context) {
    const [vaultId] = args(ctx, ["vault-id"]);
    const { policies } = unwrap(await client(ctx).access.listGrants(vaultId!));
    if (ctx.json) return printJson({ policies });
    printTable<Policy>(policies, [
      ["ID", (p) => p.id],
      ["PRINCIPAL", (p) => `${p.principal_type}:${p.principal_id}`],
      ["PATTERN", (p) => p.secret_path_pattern],
      ["PERMISSIONS", (p) => p.permissions],
      ["EFFECT", (p) => p.effect],
      ["PRIORITY", (p) => p.priority],
      ["EXPIRES", (p) => p.expires_at],
    ]);
  },

  async update(ctx: Context) {
    const [vaultId, policyId] = args(ctx, ["vault-id", "policy-id"]);
    const permissions = permissionsOf(ctx.options);
    const effect = effectOf(ctx.options);
    const priority = priorityOf(ctx.options);
    const conditions = conditionsOf(ctx.options);
    const expires = str(ctx.options, "expires-at");
    const change: UpdatePolicyBody = {
      ...(permissions !== undefined ? { permissions } : {}),
      ...(effect !== undefined ? { effect } : {}),
      ...(priority !== undefined ? { priority } : {}),
      ...(conditions !== undefined ? { conditions } : {}),
      ...(expires !== undefined ? { expires_at: expires === "never" ? null : expires } : {}),
    };
    if (Object.keys(change).length === 0) throw usageError("nothing to change: give --permissions, --effect, --priority, --expires-at or conditions");
    show(ctx, unwrap(await client(ctx).access.update(vaultId!, policyId!, change)));
  },

  async rm(ctx: Context) {
    const [vaultId, policyId] = args(ctx, ["vault-id", "policy-id"]);
    unwrap(await client(ctx).access.revoke(vaultId!, policyId!));
    if (ctx.json) printJson({ id: policyId, deleted: true });
    else process.stdout.write(`Deleted policy ${policyId}\n`);
  },
};
