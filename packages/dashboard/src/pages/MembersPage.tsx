/**
 * Members: the organization's people and their roles. Owners and admins invite (the `svi_` token and a link
 * carrying it, shown once), change roles and remove; only an owner grants, changes or removes the owner role, and
 * the last owner stays (the API refuses, and its detail is shown where the action was taken).
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from "react";
import { ROLES } from "@shardvault/api";
import type { InviteCreated, Member, Role, ShardvaultError } from "@shardvault/sdk";
import { managesOrg } from "../access";
import { useClient, useMe } from "../api";
import { ShownOnceModal } from "../components/ShownOnce";
import { Badge, BusyButton, ConfirmDialog, ErrorNote, FormFoot, formatDate, Modal, Spinner } from "../components/ui";
import { paths } from "../router";
import { origin } from "../session";

const ROLE_HINTS: Record<Role, string> = {
  owner: "everything, including owners",
  admin: "members, agents and every vault",
  member: "own vaults, others' through policies",
};

/** The roles an actor may hand out: only an owner grants the owner role. */
const grantable = (me: Member | null): readonly Role[] => (me?.role === "owner" ? ROLES : ROLES.filter((r) => r !== "owner"));

const memberName = (m: Member) => m.display_name || m.email || m.id;

/** The accept page, with the token in the fragment: browsers never send a fragment to a server. */
const inviteLink = (token: string) => `${origin()}${paths.acceptInvite()}#token=${encodeURIComponent(token)}`;

export function MembersPage() {
  const client = useClient();
  const me = useMe();
  const admin = managesOrg(me);
  const [members, setMembers] = useState<Member[] | null>(null);
  const [loadError, setLoadError] = useState<ShardvaultError | null>(null);
  const [changing, setChanging] = useState<Member | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  // A new invitation's token: held only while its modal is open.
  const [invite, setInvite] = useState<InviteCreated | null>(null);

  useEffect(() => {
    document.title = "Members — Shardvault";
  }, []);

  const load = useCallback(async () => {
    const { data, error } = await client.org.listMembers();
    setLoadError(error);
    if (data) setMembers(data.members);
  }, [client]);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section className="page-section" aria-labelledby="members-title">
      <div className="page-head">
        <div>
          <h1 id="members-title">Members</h1>
          <p className="muted">
            People in your organization. Owners and admins manage members, agents and every vault; members reach others&apos; vaults through
            policies.
          </p>
        </div>
      </div>

      {admin ? <InviteMember roles={grantable(me)} onInvited={setInvite} /> : null}

      <h2 className="section-title">Your organization</h2>
      {!admin && me ? <p className="small muted">Only owners and admins invite, change roles and remove members.</p> : null}
      <ErrorNote error={loadError} />
      {members === null && !loadError ? <Spinner label="Loading members…" /> : null}
      {members && members.length > 0 ? (
        <ul className="member-list">
          {members.map((member) => (
            <li key={member.id} className="card member-item">
              <div className="member-main">
                <p className="member-name">
                  <span>{memberName(member)}</span>
                  <Badge tone={member.role === "member" ? "neutral" : "info"}>{member.role}</Badge>
                  {member.id === me?.id ? <Badge tone="ok">you</Badge> : null}
                </p>
                <dl className="facts facts-inline">
                  <div>
                    <dt>Email</dt>
                    <dd>{member.email ?? "none yet"}</dd>
                  </div>
                  <div>
                    <dt>Signs in with</dt>
                    <dd>{member.auth_method === "password" ? "email and password" : "API key"}</dd>
                  </div>
                  <div>
                    <dt>Joined</dt>
                    <dd>{formatDate(member.created_at)}</dd>
                  </div>
                </dl>
              </div>
              {admin ? (
                <div className="member-actions">
                  <button type="button" className="btn btn-secondary btn-sm" onClick={() => setChanging(member)} aria-label={`Change role of ${memberName(member)}`}>
                    Change role
                  </button>
                  <button type="button" className="btn btn-danger-outline btn-sm" onClick={() => setRemoving(member)} aria-label={`Remove ${memberName(member)}`}>
                    Remove
                  </button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}

      {changing ? (
        <ChangeRole
          member={changing}
          self={changing.id === me?.id}
          roles={grantable(me)}
          onClose={() => setChanging(null)}
          onChanged={(updated) => {
            setChanging(null);
            setMembers((list) => (list ?? []).map((m) => (m.id === updated.id ? updated : m)));
          }}
        />
      ) : null}
      {removing ? (
        <ConfirmDialog
          title={`Remove ${memberName(removing)}?`}
          confirmLabel={`Remove ${memberName(removing)}`}
          busyLabel="Removing…"
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            const { error } = await client.org.removeMember(removing.id);
            if (!error) setMembers((list) => (list ?? []).filter((m) => m.id !== removing.id));
            return error;
          }}
        >
          <p>
            {memberName(removing)} leaves the organization: their API keys, sessions and policies stop working on their next request.
            {removing.id === me?.id ? " That includes this session." : ""}
          </p>
        </ConfirmDialog>
      ) : null}
      {invite ? (
        <ShownOnceModal
          title={`Invitation for ${invite.email}`}
          what="invitation"
          warning={`Shardvault keeps only a hash of this token and sends no mail. Give the link (or the token) to ${invite.email} over a channel you trust: it makes them a ${invite.role}, works once and expires ${formatDate(invite.expires_at)}. If it is lost, invite again.`}
          items={[
            { label: "Invite link", value: inviteLink(invite.invite_token), fileName: "invite-link.txt" },
            { label: "Invite token", value: invite.invite_token, fileName: "invite-token.txt" },
          ]}
          onClose={() => setInvite(null)}
        />
      ) : null}
    </section>
  );
}

function InviteMember({ roles, onInvited }: { roles: readonly Role[]; onInvited: (invite: InviteCreated) => void }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShardvaultError | null>(null);
  const ids = { email: useId(), role: useId(), roleHint: useId() };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    setBusy(true);
    setError(null);
    const answer = await client.org.invite(String(data.get("email") ?? "").trim(), String(data.get("role") ?? "member") as Role);
    setBusy(false);
    if (answer.error) return setError(answer.error);
    form.reset();
    onInvited(answer.data);
  };

  return (
    <form className="card form-card" onSubmit={(e) => void submit(e)} aria-labelledby="invite-title">
      <h2 id="invite-title" className="card-title">
        Invite a member
      </h2>
      <div className="form-row">
        <div className="field field-grow">
          <label htmlFor={ids.email}>Email</label>
          <input id={ids.email} name="email" type="email" required maxLength={320} autoComplete="off" placeholder="dana@example.com" />
        </div>
        <div className="field field-narrow">
          <label htmlFor={ids.role}>Role</label>
          <select id={ids.role} name="role" defaultValue="member" aria-describedby={ids.roleHint}>
            {roles.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-action">
          <BusyButton type="submit" busy={busy} busyLabel="Inviting…">
            Create invitation
          </BusyButton>
        </div>
      </div>
      <p className="hint invite-hint" id={ids.roleHint}>
        {roles.map((role) => `${role}: ${ROLE_HINTS[role]}`).join(" · ")}. The invitation is shown once and works once.
      </p>
      <ErrorNote error={error} />
    </form>
  );
}

function ChangeRole({
  member,
  self,
  roles,
  onClose,
  onChanged,
}: {
  member: Member;
  /** The signed-in member's own role. */
  self: boolean;
  roles: readonly Role[];
  onClose: () => void;
  onChanged: (member: Member) => void;
}) {
  const client = useClient();
  const [role, setRole] = useState<Role>(member.role);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShardvaultError | null>(null);
  const hintId = useId();
  // An owner's role shows even to an admin, who cannot grant it.
  const choices = roles.includes(member.role) ? roles : [member.role, ...roles];

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const answer = await client.org.updateMemberRole(member.id, role);
    setBusy(false);
    if (answer.error) return setError(answer.error);
    onChanged(answer.data);
  };

  return (
    <Modal title={`Role of ${memberName(member)}`} onClose={onClose} describedBy={hintId}>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        <p className="muted" id={hintId}>
          A new role counts from {self ? "your" : `${memberName(member)}'s`} next request.
        </p>
        <fieldset>
          <legend>Role</legend>
          <div className="checks checks-column">
            {choices.map((r) => (
              <label key={r} className="check">
                <input type="radio" name="role" value={r} checked={role === r} onChange={() => setRole(r)} />
                <span>
                  {r} <span className="muted small">({ROLE_HINTS[r]})</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        <FormFoot error={error} onCancel={onClose} busy={busy} busyLabel="Saving…" disabled={role === member.role}>
          Save role
        </FormFoot>
      </form>
    </Modal>
  );
}
