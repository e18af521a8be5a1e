/**
 * Helpers for the access-control suites (`access-*.test.ts`): members invited and signed in, agents with their
 * tokens, and the bodies 1claw's clients send.
 */
import assert from "node:assert/strict";
import { api, type Api } from "./harness.js";
import { agentToken, createAgent, type CreatedAgent } from "./auth-support.js";

/** A password long enough (12+) for the server. */
export const PASSWORD = "correct horse battery staple";

export interface Member {
  id: string;
  email: string;
  /** A client with the member's sign-in token. */
  as: Api;
  token: string;
}

/** Invites `email` as `role`, accepts the invitation with PASSWORD, and answers the signed-in member. */
export async function addMember(url: string, admin: Api, email: string, role: "owner" | "admin" | "member" = "member"): Promise<Member & { inviteToken: string }> {
  const invite = await admin.post("/v1/org/invite", { email, role });
  assert.equal(invite.status, 200, `invite: ${invite.text}`);
  const accepted = await api(url).post("/v1/auth/accept-invite", { invite_token: invite.body.invite_token, password: PASSWORD });
  assert.equal(accepted.status, 200, `accept-invite: ${accepted.text}`);
  const as = api(url, accepted.body.access_token);
  const me = await as.get("/v1/auth/me");
  assert.equal(me.status, 200, me.text);
  return { id: me.body.id, email, as, token: accepted.body.access_token, inviteToken: invite.body.invite_token };
}

/** `POST /v1/auth/token`, asserting 200; answers the token. */
export async function signIn(url: string, email: string, password = PASSWORD): Promise<string> {
  const res = await api(url).post("/v1/auth/token", { email, password });
  assert.equal(res.status, 200, `sign-in: ${res.text}`);
  return res.body.access_token;
}

/** An agent and a client with a fresh token of it. */
export async function agentClient(url: string, admin: Api, body: Record<string, unknown>): Promise<{ created: CreatedAgent; as: Api; token: string }> {
  const created = await createAgent(admin, body);
  const token = (await agentToken(url, created.api_key)).access_token;
  return { created, as: api(url, token), token };
}

/**
 * The body 1claw's SDK sends for `access.grantAgent(vaultId, agentId, permissions, options)` (and `grantHuman`),
 * as JSON.stringify leaves it: undefined options absent, `policy_schema_version` 1, effect and priority filled in.
 */
export function oneclawGrantBody(principalType: "agent" | "user", principalId: string, permissions: string[], options: Record<string, unknown> = {}) {
  return JSON.parse(
    JSON.stringify({
      secret_path_pattern: options.secretPathPattern ?? "**",
      principal_type: principalType,
      principal_id: principalId,
      policy_schema_version: 1,
      permissions,
      conditions: options.conditions,
      expires_at: options.expires_at,
      effect: options.effect ?? "allow",
      priority: options.priority ?? 0,
      attribute_conditions: options.attribute_conditions,
    }),
  ) as Record<string, unknown>;
}

/** 1claw's SDK sends `Content-Type: application/json` on every request, bodiless DELETEs included. */
export const JSON_HEADERS = { headers: { "content-type": "application/json" } };

/** The fields of a Policy answer. */
export const POLICY_FIELDS = [
  "conditions", "created_at", "created_by", "created_by_type", "effect", "expires_at", "id", "permissions", "principal_id", "principal_type", "priority",
  "secret_path_pattern", "vault_id",
];
