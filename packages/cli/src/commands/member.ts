/** `shardvault member invite|list|role|rm`: the organization's members. */
import type { Member, Role } from "@shardvault/sdk";
import { args, client, str, type Context } from "../context.js";
import { unwrap, usageError } from "../errors.js";
import { printJson, printRecord, printTable, warn } from "../output.js";

const ROLES = ["owner", "admin", "member"];

function roleOf(value: string | undefined): Role | undefined {
  if (value !== undefined && !ROLES.includes(value)) throw usageError(`the role is one of ${ROLES.join(", ")}`);
  return value as Role | undefined;
}

export const memberCommands = {
  async invite(ctx: Context) {
    const [email] = args(ctx, ["email"]);
    const invited = unwrap(await client(ctx).org.invite(email!, roleOf(str(ctx.options, "role"))));
    warn(`The invitation token is shown ONCE and works once, until ${invited.expires_at}: hand it to ${invited.email} (it is accepted at POST /v1/auth/accept-invite with a password of 12 or more characters).`);
    if (ctx.json) return printJson(invited);
    printRecord([
      ["EMAIL", invited.email],
      ["ROLE", invited.role],
      ["EXPIRES", invited.expires_at],
      ["INVITE_TOKEN", invited.invite_token],
    ]);
  },

  async list(ctx: Context) {
    args(ctx, []);
    const { members } = unwrap(await client(ctx).org.listMembers());
    if (ctx.json) return printJson({ members });
    printTable<Member>(members, [
      ["ID", (m) => m.id],
      ["EMAIL", (m) => m.email],
      ["NAME", (m) => m.display_name],
      ["ROLE", (m) => m.role],
      ["SIGN-IN", (m) => m.auth_method],
    ]);
  },

  async role(ctx: Context) {
    const [userId, role] = args(ctx, ["user-id", "role"]);
    const member = unwrap(await client(ctx).org.updateMemberRole(userId!, roleOf(role)!));
    if (ctx.json) return printJson(member);
    process.stdout.write(`${member.email ?? member.display_name} is now ${member.role}\n`);
  },

  async rm(ctx: Context) {
    const [userId] = args(ctx, ["user-id"]);
    unwrap(await client(ctx).org.removeMember(userId!));
    if (ctx.json) printJson({ id: userId, removed: true });
    else process.stdout.write(`Removed member ${userId}: their keys and sessions stop working now\n`);
  },
};
