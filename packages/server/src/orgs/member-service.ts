/**
 * Organization members: invitations (a shown-once token, stored as its hash, single use, expiring after
 * INVITE_TTL_DAYS), accepting one with a password, roles, removal, and a member's own profile and password.
 *
 * Owners and admins manage members; only an owner grants, changes or removes the owner role; the last owner can
 * be neither demoted nor removed. Roles are read from the database on every request, so a change counts from the
 * member's next request, on every instance.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Member, Role } from "@shardvault/api";
import type { AuditLog } from "../audit/audit.js";
import { hashApiKey } from "../auth/api-key.js";
import { checkNewPassword, hashPassword, passwordMatches } from "../auth/passwords.js";
import type { Principal } from "../auth/principal.js";
import { requireAdmin, requireUser } from "../auth/roles.js";
import type { SigningKeys } from "../auth/signing-keys.js";
import { issueSessionToken } from "../auth/tokens.js";
import type { Database, Queryable } from "../db/database.js";
import { badRequest, conflict, notFound, refused } from "../errors.js";
import { isUuid } from "../ids.js";
import { deletePoliciesOf } from "../policies/policy-queries.js";
import { isoTime } from "../times.js";
import * as q from "./member-queries.js";

export const INVITE_TTL_DAYS = 7;
/** Invitation tokens: like API keys, 32 random bytes, so SHA-256 is the right hash to store. */
export const INVITE_TOKEN_PREFIX = "svi_";

export const toMemberView = (row: q.UserRow): Member => ({
  id: row.id,
  email: row.email,
  display_name: row.display_name,
  role: row.role,
  auth_method: row.password_hash ? "password" : "api_key",
  created_at: isoTime(row.created_at)!,
});

export type MemberService = ReturnType<typeof createMemberService>;

export function createMemberService(deps: { db: Database; keys: SigningKeys; audit: AuditLog }) {
  const { db, keys, audit } = deps;

  /** Only an owner grants, changes or removes the owner role. */
  function requireOwnerFor(actor: Principal, what: string, ...roles: Role[]): void {
    if (roles.includes("owner") && actor.role !== "owner") {
      throw refused(403, "forbidden", `only an owner may ${what} an owner`, { needed: "owner", role: actor.role });
    }
  }

  async function findMember(actor: Principal, userId: string): Promise<q.UserRow> {
    const row = isUuid(userId) ? await q.findUser(db, actor.orgId, userId) : undefined;
    if (!row) throw notFound("member_not_found", `member ${userId} not found`);
    return row;
  }

  /** Runs a change to an owner's standing with the organization's owners locked; refuses to leave none. */
  function changeStanding<T>(actor: Principal, target: q.UserRow, keepsOwner: boolean, change: (tx: Queryable) => Promise<T>): Promise<T> {
    return db.transaction(async (tx) => {
      const owners = await q.lockOwners(tx, actor.orgId);
      if (owners.includes(target.id) && !keepsOwner && owners.length === 1) {
        throw conflict("last_owner", "the organization's last owner can be neither demoted nor removed: make another member owner first");
      }
      return change(tx);
    });
  }

  return {
    async list(actor: Principal): Promise<Member[]> {
      requireUser(actor, "list members");
      return (await q.listMembers(db, actor.orgId)).map(toMemberView);
    },

    async me(actor: Principal): Promise<Member> {
      requireUser(actor, "use /v1/auth/me (agents: /v1/agents/me)");
      return toMemberView(await findMember(actor, actor.id));
    },

    async updateMe(actor: Principal, change: { display_name?: string; email?: string }): Promise<Member> {
      requireUser(actor, "change a member profile");
      if (change.email !== undefined && (await q.emailTaken(db, actor.orgId, change.email, actor.id))) {
        throw conflict("email_taken", "another member of the organization has this email");
      }
      return toMemberView(await q.updateProfile(db, actor.id, change));
    },

    /**
     * Sets the caller's password: `current` must match the one set before, if any (a user who has none yet, such
     * as the first-start owner signed in by API key, sets one with the new password alone). Earlier sign-ins end;
     * the answer is a token for the new session.
     */
    async changePassword(actor: Principal, current: string | undefined, next: string) {
      requireUser(actor, "have a password");
      checkNewPassword(next);
      const user = await findMember(actor, actor.id);
      if (user.password_hash && !(current !== undefined && (await passwordMatches(user.password_hash, current)))) {
        throw refused(403, "wrong_password", "current_password does not match", { cause: "wrong_current_password" });
      }
      const passwordHash = await hashPassword(next);
      const updated = await db.transaction(async (tx) => {
        const row = await q.setPassword(tx, actor.id, passwordHash);
        await audit.recordIn(tx, actor, { action: "auth.password_change", resourceType: "user", resourceId: actor.id });
        return row;
      });
      return issueSessionToken(keys, updated);
    },

    async invite(actor: Principal, input: { email: string; role?: Role }) {
      const role = input.role ?? "member";
      requireAdmin(actor, "invite members");
      requireOwnerFor(actor, "invite", role);
      const email = input.email.trim();
      if (await q.emailTaken(db, actor.orgId, email)) throw conflict("member_exists", `${email} is already a member`);
      const token = INVITE_TOKEN_PREFIX + randomBytes(32).toString("base64url");
      const invite = { id: randomUUID(), org_id: actor.orgId, email, role, expires_at: new Date(Date.now() + INVITE_TTL_DAYS * 24 * 3600 * 1000) };
      await db.transaction(async (tx) => {
        await q.replaceInvite(tx, { ...invite, token_hash: hashApiKey(token), invited_by: actor.id });
        await audit.recordIn(tx, actor, { action: "member.invite", resourceType: "invite", resourceId: invite.id, details: { email, role } });
      });
      return {
        message: `Invitation created for ${email}. Hand over the invite token: it is shown once and expires in ${INVITE_TTL_DAYS} days.`,
        email,
        role,
        invite_token: token,
        expires_at: invite.expires_at.toISOString(),
      };
    },

    /** Accepts an invitation: the member is created with the password, and signed in. */
    async acceptInvite(input: { invite_token: string; password: string; display_name?: string }) {
      checkNewPassword(input.password);
      const passwordHash = await hashPassword(input.password);
      const user = await db.transaction(async (tx) => {
        // Unknown, used and expired tokens are answered alike.
        const invite = await q.consumeInvite(tx, hashApiKey(input.invite_token));
        if (!invite) throw badRequest("invite_invalid", "the invite token is unknown, already used or expired");
        if (await q.emailTaken(tx, invite.org_id, invite.email)) throw conflict("member_exists", `${invite.email} is already a member`);
        const created = await q.insertMember(tx, {
          id: randomUUID(),
          org_id: invite.org_id,
          email: invite.email,
          display_name: input.display_name ?? invite.email.split("@")[0]!,
          role: invite.role,
          password_hash: passwordHash,
        });
        const actor = { type: "user" as const, id: created.id, orgId: created.org_id };
        await audit.recordIn(tx, actor, { action: "member.join", resourceType: "user", resourceId: created.id, details: { invite_id: invite.id, role: invite.role } });
        return created;
      });
      return issueSessionToken(keys, user);
    },

    async updateRole(actor: Principal, userId: string, role: Role): Promise<Member> {
      requireAdmin(actor, "change member roles");
      const target = await findMember(actor, userId);
      requireOwnerFor(actor, "make or change", role, target.role);
      const updated = await changeStanding(actor, target, role === "owner", async (tx) => {
        const row = await q.setRole(tx, target.id, role);
        await audit.recordIn(tx, actor, { action: "member.update", resourceType: "user", resourceId: target.id, details: { from: target.role, to: role } });
        return row;
      });
      return toMemberView(updated);
    },

    /** Removes a member: their API keys (cascade) and policies go with them; their sessions end on the next request. */
    async remove(actor: Principal, userId: string): Promise<void> {
      requireAdmin(actor, "remove members");
      const target = await findMember(actor, userId);
      requireOwnerFor(actor, "remove", target.role);
      await changeStanding(actor, target, false, async (tx) => {
        await deletePoliciesOf(tx, "user", target.id);
        await q.deleteUser(tx, target.id);
        await audit.recordIn(tx, actor, { action: "member.remove", resourceType: "user", resourceId: target.id, details: { email: target.email, role: target.role } });
      });
    },
  };
}
