/**
 * Sharing one secret version. A share names the version that was current when it was made and serves that
 * version only. Who may open it:
 *
 * - `anyone_with_link` and `external_email`: whoever holds the link (no token), with the passphrase when the
 *   share has one, from an allowed address when it has an allow-list;
 * - `user`, `agent` and `creator`: the recipient, with its own token (and the same passphrase and address checks).
 *
 * Every open is counted atomically (a one-time share opens once, however many try at once) in one transaction
 * with its audit event; refused opens of an existing share are audited too. In a client-custody vault the
 * value is sealed under a link key only the link carries (link-key.ts); elsewhere the share opens the version
 * through the envelope, as a read does.
 */
import { randomUUID } from "node:crypto";
import type { CreateShareBody, ShareCreated, ShareSummary } from "@shardvault/api";
import { wipe } from "@shardvault/crypto";
import type { Actor, AuditLog } from "../audit/audit.js";
import { ANONYMOUS_ID } from "../audit/audit.js";
import { hashPassword, passwordMatches } from "../auth/passwords.js";
import type { Principal } from "../auth/principal.js";
import type { Database } from "../db/database.js";
import { clientCustody } from "../envelope/custody-modes.js";
import { AppError, badRequest, conflict, forbidden, notFound, refused } from "../errors.js";
import { isUuid } from "../ids.js";
import { findUser } from "../orgs/member-queries.js";
import { addressAllowed, scopeAllows } from "../policies/decide.js";
import { countAccess } from "../secrets/secret-queries.js";
import type { SecretService } from "../secrets/secret-service.js";
import { encodeLinkKey, generateLinkKey, openWithLinkKey, sealForLink } from "./link-key.js";
import { checkShareInput } from "./share-input.js";
import * as q from "./share-queries.js";

export interface OpenRequest {
  /** The caller's principal from its token: called only for shares made for a user or an agent. */
  identify(): Promise<Principal>;
  passphrase?: string;
  /** Client-custody shares: the link key (the `k` of the link's fragment). */
  shareKey?: string;
  ip?: string;
}

export interface OpenedShare {
  id: string;
  path: string;
  type: string;
  /** The plaintext; the HTTP layer turns it into the answer and wipes it. */
  value: Buffer;
  access_count: number;
  max_access_count: number | null;
}

/** Expired, used up, revoked, declined and unknown shares all answer this, alike. */
const gone = (shareId: string) => notFound("share_not_found", `share ${shareId} not found (it may have expired, been used up or revoked)`);

const toSummary = (row: q.ShareListRow): ShareSummary => ({
  id: row.id,
  secret_path: row.secret_path,
  recipient_type: row.recipient_type,
  ...(row.recipient_email ? { recipient_email: row.recipient_email } : {}),
  access_count: row.access_count,
  max_access_count: row.max_access_count,
  expires_at: new Date(row.expires_at).toISOString(),
  created_at: new Date(row.created_at).toISOString(),
  is_expired: row.is_expired,
  is_accepted: row.is_accepted,
});

/** The kind of principal a share made for someone is opened by. */
const recipientKind = (share: q.ShareRow): "user" | "agent" | undefined =>
  share.recipient_type === "agent" ? "agent" : share.recipient_type === "user" || share.recipient_type === "creator" ? "user" : undefined;

export type ShareService = ReturnType<typeof createShareService>;

export function createShareService(deps: { db: Database; secrets: SecretService; audit: AuditLog }) {
  const { db, secrets, audit } = deps;

  /** The recipient's id (a member, an agent, an agent's registering user) or email, checked against the organization. */
  async function recipientOf(principal: Principal, body: CreateShareBody, recipientId: string | undefined): Promise<{ id: string | null; email: string | null }> {
    switch (body.recipient_type) {
      case "user":
        if (!(await findUser(db, principal.orgId, recipientId!))) throw badRequest("recipient_not_found", `no member ${recipientId} in this organization`);
        return { id: recipientId!, email: null };
      case "agent":
        if (!(await q.findActiveAgent(db, principal.orgId, recipientId!))) throw badRequest("recipient_not_found", `no active agent ${recipientId} in this organization`);
        return { id: recipientId!, email: null };
      case "creator": {
        if (principal.type !== "agent") throw badRequest("validation_error", "recipient_type creator is for agents: it shares with the user who registered the agent");
        const agent = await q.findActiveAgent(db, principal.orgId, principal.id);
        if (!agent || !(await findUser(db, principal.orgId, agent.created_by))) throw badRequest("recipient_not_found", "the user who registered this agent is no longer a member");
        return { id: agent.created_by, email: null };
      }
      case "external_email":
        // As in 1claw: only people send shares to email addresses, so an agent cannot be made to spam.
        if (principal.type !== "user") throw forbidden("forbidden", "agents may not create external_email shares");
        return { id: null, email: body.email! };
      default:
        return { id: null, email: null };
    }
  }

  /** Records a refused open of an existing share, then throws `error`. */
  async function refuse(share: q.ShareWithSecret, actor: Actor, reason: string, error: AppError): Promise<never> {
    await audit.record(actor, {
      action: "share.access_refused",
      resourceType: "share",
      resourceId: share.id,
      details: { vault_id: share.vault_id, path: share.path, version: share.version, recipient_type: share.recipient_type, reason },
    });
    throw error;
  }

  /** The opener: the recipient, for shares made for someone (anyone else is answered like a missing share). */
  async function opener(share: q.ShareWithSecret, request: OpenRequest, anonymous: Actor): Promise<Actor> {
    const kind = recipientKind(share);
    if (!kind) return anonymous;
    let principal: Principal;
    try {
      principal = await request.identify();
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const detail = `share ${share.id} is for a ${kind}: open it with the recipient's token (${error.detail})`;
      return refuse(share, anonymous, "token_missing_or_invalid", new AppError(401, "unauthorized", detail));
    }
    const actor = { ...principal, orgId: share.org_id };
    if (principal.orgId !== share.org_id || principal.type !== kind || principal.id !== share.recipient_id) return refuse(share, actor, "not_recipient", gone(share.id));
    if (!scopeAllows(principal.scopes, "secrets:read")) {
      return refuse(share, actor, "scope_missing", refused(403, "scope_missing", "opening a share needs the secrets:read scope", { scope: "secrets:read" }));
    }
    return actor;
  }

  return {
    async create(principal: Principal, secretId: string, body: CreateShareBody, opts: { clientShare?: string; baseUrl: string }): Promise<ShareCreated> {
      const input = checkShareInput(body);
      const { vault, meta, cmekEncrypted } = await secrets.shareable(principal, secretId);
      if (cmekEncrypted) {
        throw conflict("share_cmek_unsupported", "this version is encrypted with the vault's CMEK key, which the server does not hold: a recipient could not read it");
      }
      const recipient = await recipientOf(principal, body, input.recipientId);
      const passphraseHash = input.passphrase === undefined ? null : await hashPassword(input.passphrase);
      const id = randomUUID();
      let linkKey: Buffer | undefined;
      let sealed: Buffer | null = null;
      if (clientCustody(vault.mpc_custody)) {
        // The value is read with the creator's client share (a read like any other, audited as one), sealed
        // under a fresh link key, and the key leaves only in the answer's link.
        const read = await secrets.read(principal, vault.id, meta.path, { version: meta.version, ...(opts.clientShare !== undefined ? { clientShare: opts.clientShare } : {}) });
        linkKey = generateLinkKey();
        try {
          sealed = sealForLink(linkKey, id, read.value);
        } finally {
          wipe(read.value);
        }
      }
      try {
        await db.transaction(async (tx) => {
          await q.insertShare(tx, {
            id,
            org_id: principal.orgId,
            vault_id: vault.id,
            version_id: meta.id,
            recipient_type: body.recipient_type,
            recipient_id: recipient.id,
            recipient_email: recipient.email,
            passphrase_hash: passphraseHash,
            ip_allowlist: input.ipAllowlist ?? null,
            sealed_value: sealed,
            expires_at: input.expiresAt,
            max_access_count: body.max_access_count ?? null,
            created_by: principal.id,
            created_by_type: principal.type,
          });
          await audit.recordIn(tx, principal, {
            action: "share.create",
            resourceType: "share",
            resourceId: id,
            details: {
              vault_id: vault.id,
              path: meta.path,
              version: meta.version,
              recipient_type: body.recipient_type,
              ...(recipient.id ? { recipient_id: recipient.id } : {}),
              ...(recipient.email ? { recipient_email: recipient.email } : {}),
              expires_at: input.expiresAt.toISOString(),
              ...(body.max_access_count !== undefined ? { max_access_count: body.max_access_count } : {}),
              passphrase: passphraseHash !== null,
              link_key: linkKey !== undefined,
            },
          });
        });
        return {
          id,
          share_url: `${opts.baseUrl}/share/${id}${linkKey ? `#k=${encodeLinkKey(linkKey)}` : ""}`,
          recipient_type: body.recipient_type,
          ...(recipient.email ? { recipient_email: recipient.email } : {}),
          expires_at: input.expiresAt.toISOString(),
          ...(body.max_access_count !== undefined ? { max_access_count: body.max_access_count } : {}),
        };
      } finally {
        wipe(linkKey);
      }
    },

    async open(shareId: string, request: OpenRequest): Promise<OpenedShare> {
      const share = isUuid(shareId) ? await q.findOpenShare(db, shareId.toLowerCase()) : undefined;
      if (!share) throw gone(shareId);
      const anonymous: Actor = { type: "anonymous", id: ANONYMOUS_ID, orgId: share.org_id, ...(request.ip !== undefined ? { ip: request.ip } : {}) };
      const actor = await opener(share, request, anonymous);
      if (share.ip_allowlist && !addressAllowed(share.ip_allowlist, request.ip)) {
        await refuse(share, actor, "ip_not_allowed", forbidden("share_ip_not_allowed", "this share may not be opened from your address"));
      }
      if (share.passphrase_hash !== null) {
        if (request.passphrase === undefined || request.passphrase === "") {
          await refuse(share, actor, "passphrase_required", new AppError(401, "passphrase_required", "this share has a passphrase: send it in X-Share-Passphrase"));
        }
        if (!(await passwordMatches(share.passphrase_hash, request.passphrase!))) {
          await refuse(share, actor, "passphrase_invalid", new AppError(401, "passphrase_invalid", "the passphrase is not this share's"));
        }
      }
      // A deleted, disabled or expired version takes its shares with it.
      const version = await secrets.sharedVersion(share.org_id, share.version_id);
      if (!version) throw gone(share.id);
      let value: Buffer;
      if (share.sealed_value) {
        try {
          value = openWithLinkKey(request.shareKey, share.id, share.sealed_value);
        } catch (error) {
          return refuse(share, actor, (error as AppError).code, error as AppError);
        }
      } else {
        // A vault turned to client custody since: the server may no longer open the version without its client.
        if (version.clientCustody) throw gone(share.id);
        value = await version.open();
      }
      try {
        const accessCount = await db.transaction(async (tx) => {
          const count = await q.countShareAccess(tx, share.id);
          // The version's own limit counts every read of it, through a share too.
          if (count === undefined || (version.limited && !(await countAccess(tx, share.version_id)))) throw gone(share.id);
          await audit.recordIn(tx, actor, {
            action: "share.access",
            resourceType: "share",
            resourceId: share.id,
            details: { vault_id: share.vault_id, path: share.path, version: share.version, recipient_type: share.recipient_type, access_count: count },
          });
          return count;
        });
        return { id: share.id, path: share.path, type: share.type, value, access_count: accessCount, max_access_count: share.max_access_count };
      } catch (error) {
        wipe(value);
        throw error;
      }
    },

    /** Revoking: the share's creator, or an owner or admin of the organization. Answered 404 at once afterwards. */
    async revoke(principal: Principal, shareId: string): Promise<void> {
      const share = isUuid(shareId) ? await q.findShare(db, principal.orgId, shareId.toLowerCase()) : undefined;
      const manager = principal.type === "user" && (principal.role === "owner" || principal.role === "admin");
      if (!share || share.revoked_at || !(share.created_by === principal.id || manager)) throw gone(shareId);
      await db.transaction(async (tx) => {
        if (!(await q.revokeShare(tx, principal.orgId, share.id))) throw gone(shareId);
        await audit.recordIn(tx, principal, { action: "share.revoke", resourceType: "share", resourceId: share.id, details: { vault_id: share.vault_id, recipient_type: share.recipient_type } });
      });
    },

    async listOutbound(principal: Principal): Promise<ShareSummary[]> {
      return (await q.listOutbound(db, principal.orgId, principal.id)).map(toSummary);
    },

    async listInbound(principal: Principal): Promise<ShareSummary[]> {
      const email = principal.type === "user" ? ((await findUser(db, principal.orgId, principal.id))?.email ?? null) : null;
      return (await q.listInbound(db, principal.orgId, principal.id, email)).map(toSummary);
    },

    /** The recipient accepts (recorded, `is_accepted`) or declines (the share no longer opens) a share made for it. */
    async answer(principal: Principal, shareId: string, answer: "accept" | "decline"): Promise<void> {
      const email = principal.type === "user" ? ((await findUser(db, principal.orgId, principal.id))?.email ?? null) : null;
      if (!isUuid(shareId)) throw gone(shareId);
      await db.transaction(async (tx) => {
        if (!(await q.answerShare(tx, shareId.toLowerCase(), { orgId: principal.orgId, id: principal.id, email }, answer))) throw gone(shareId);
        await audit.recordIn(tx, principal, { action: answer === "accept" ? "share.accept" : "share.decline", resourceType: "share", resourceId: shareId.toLowerCase() });
      });
    },
  };
}
