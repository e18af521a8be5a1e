/**
 * Checks of what a caller sends to create a share, before anything is read or stored. Pure: who the recipient
 * is (a member, an agent) is looked up by the service afterwards.
 */
import type { CreateShareBody } from "@shardvault/api";
import { badRequest } from "../errors.js";
import { isUuid } from "../ids.js";
import { checkAllowlist } from "../policies/policy-input.js";
import { futureExpiry } from "../times.js";

export interface CheckedShare {
  expiresAt: Date;
  /** `user` and `agent` shares: the recipient's id, lower-cased. */
  recipientId?: string;
  recipientEmail?: string;
  passphrase?: string;
  ipAllowlist?: string[];
}

// Control characters cannot travel in the X-Share-Passphrase header; lone surrogates have no UTF-8 form.
const UNSENDABLE = /[\u0000-\u0008\u000a-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The fields each recipient type takes; any other recipient field is refused rather than ignored. */
export function checkShareInput(body: CreateShareBody): CheckedShare {
  const type = body.recipient_type;
  const byId = type === "user" || type === "agent";
  if (body.recipient_id !== undefined && !byId) throw badRequest("validation_error", `recipient_id is for user and agent shares, not ${type}`);
  if (body.email !== undefined && type !== "external_email") throw badRequest("validation_error", `email is for external_email shares, not ${type}`);
  const checked: CheckedShare = { expiresAt: futureExpiry(body.expires_at) };
  if (byId) {
    if (body.recipient_id === undefined) throw badRequest("validation_error", `a ${type} share needs recipient_id`);
    if (!isUuid(body.recipient_id)) throw badRequest("validation_error", "recipient_id must be a UUID");
    checked.recipientId = body.recipient_id.toLowerCase();
  }
  if (type === "external_email") {
    if (body.email === undefined) throw badRequest("validation_error", "an external_email share needs email");
    checked.recipientEmail = body.email;
  }
  if (body.passphrase !== undefined) {
    if (UNSENDABLE.test(body.passphrase)) throw badRequest("invalid_passphrase", "the passphrase may not hold control characters or lone surrogates (it travels in an HTTP header)");
    checked.passphrase = body.passphrase;
  }
  if (body.ip_allowlist !== undefined) {
    if (body.ip_allowlist.length === 0) throw badRequest("invalid_ip_allowlist", "an empty ip_allowlist would let nobody open the share: leave it out for no restriction");
    checked.ipAllowlist = checkAllowlist(body.ip_allowlist, "ip_allowlist", "invalid_ip_allowlist");
  }
  return checked;
}
