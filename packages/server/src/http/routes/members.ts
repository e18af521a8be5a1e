import type { FastifyPluginAsync } from "fastify";
import {
  acceptInviteBody,
  changePasswordBody,
  documentOnlySerializer,
  inviteBody,
  inviteResponse,
  memberListResponse,
  memberParams,
  memberSchema,
  noContentSchema,
  problemResponses,
  tokenResponse,
  updateMeBody,
  updateMemberBody,
  type AcceptInviteBody,
  type ChangePasswordBody,
  type InviteBody,
  type UpdateMeBody,
  type UpdateMemberBody,
} from "@shardvault/api";
import type { HttpDeps } from "../deps.js";
import { noStore, principalOf } from "../request.js";

/** Organization members, invitations, and a member's own profile and password. */
export const memberRoutes =
  (deps: Pick<HttpDeps, "members">): FastifyPluginAsync =>
  async (app) => {
    const { members } = deps;
    // The schemas come from @shardvault/api; response schemas document the API and do not filter answers.
    app.setSerializerCompiler(documentOnlySerializer);

    app.get("/v1/org/members", { schema: { response: { 200: memberListResponse, ...problemResponses } } }, async (request) => ({
      members: await members.list(principalOf(request)),
    }));

    app.post<{ Body: InviteBody }>("/v1/org/invite", { schema: { body: inviteBody, response: { 200: inviteResponse, ...problemResponses } } }, async (request, reply) =>
      noStore(reply).send(await members.invite(principalOf(request), request.body)),
    );

    app.patch<{ Params: { user_id: string }; Body: UpdateMemberBody }>(
      "/v1/org/members/:user_id",
      { schema: { params: memberParams, body: updateMemberBody, response: { 200: memberSchema, ...problemResponses } } },
      async (request) => members.updateRole(principalOf(request), request.params.user_id, request.body.role),
    );

    app.delete<{ Params: { user_id: string } }>(
      "/v1/org/members/:user_id",
      { schema: { params: memberParams, response: { 204: noContentSchema, ...problemResponses } } },
      async (request, reply) => {
        await members.remove(principalOf(request), request.params.user_id);
        return reply.code(204).send();
      },
    );

    app.post<{ Body: AcceptInviteBody }>(
      "/v1/auth/accept-invite",
      { config: { public: true, rateLimited: "invite_acceptance" }, schema: { body: acceptInviteBody, response: { 200: tokenResponse, ...problemResponses } } },
      async (request, reply) => noStore(reply).send(await members.acceptInvite(request.body)),
    );

    app.get("/v1/auth/me", { schema: { response: { 200: memberSchema, ...problemResponses } } }, async (request) => members.me(principalOf(request)));

    app.patch<{ Body: UpdateMeBody }>("/v1/auth/me", { schema: { body: updateMeBody, response: { 200: memberSchema, ...problemResponses } } }, async (request) =>
      members.updateMe(principalOf(request), request.body),
    );

    app.post<{ Body: ChangePasswordBody }>(
      "/v1/auth/change-password",
      { schema: { body: changePasswordBody, response: { 200: tokenResponse, ...problemResponses } } },
      async (request, reply) => noStore(reply).send(await members.changePassword(principalOf(request), request.body.current_password, request.body.new_password)),
    );
  };
