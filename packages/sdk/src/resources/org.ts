/**
 * `client.org`: the organization's members, with 1claw's method names (`listMembers`, `updateMemberRole`,
 * `removeMember`) and `invite`, which answers the invitation token once (a self-hosted server sends no mail).
 */
import type { InviteCreated, Member, MemberList, Role } from "../api-types.js";
import { clientValidationFailure } from "../errors.js";
import { idProblem } from "../paths.js";
import type { Transport } from "../transport.js";
import type { ShardvaultResponse } from "../types.js";

const memberPath = (userId: string) => `/v1/org/members/${encodeURIComponent(userId)}`;

export class OrgResource {
  constructor(private readonly http: Transport) {}

  /** `GET /v1/org/members`: `{ members: [...] }`. */
  listMembers(): Promise<ShardvaultResponse<MemberList>> {
    return this.http.request({ method: "GET", path: "/v1/org/members" });
  }

  /** `POST /v1/org/invite`: the `invite_token` is in this answer only; it expires after 7 days and works once. */
  invite(email: string, role?: Role): Promise<ShardvaultResponse<InviteCreated>> {
    return this.http.request({ method: "POST", path: "/v1/org/invite", body: role === undefined ? { email } : { email, role } });
  }

  /** `PATCH /v1/org/members/{user_id}`: counts from the member's next request. */
  updateMemberRole(userId: string, role: Role): Promise<ShardvaultResponse<Member>> {
    const problem = idProblem("userId", userId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "PATCH", path: memberPath(userId), body: { role } });
  }

  /** `DELETE /v1/org/members/{user_id}`: the member's keys and sessions stop working on their next request. */
  removeMember(userId: string): Promise<ShardvaultResponse<null>> {
    const problem = idProblem("userId", userId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "DELETE", path: memberPath(userId) });
  }
}
