/**
 * The Access tab: the vault's policies (who may do what on which paths), adding one with a preview of the
 * existing paths its pattern matches, editing and deleting. For those who manage the vault; agents are listed
 * for owners and admins only (the API's rule), so a vault's creator who is a member grants to members.
 */
import { useCallback, useEffect, useMemo, useState } from "react";
import { matchesPattern } from "@shardvault/api";
import type { Agent, Member, Policy, ShardvaultError, Vault } from "@shardvault/sdk";
import { managesOrg } from "../access";
import { useClient, useMe } from "../api";
import { Badge, ConfirmDialog, EmptyState, ErrorNote, formatDate, Spinner } from "../components/ui";
import { granteeLabel, grantees as toGrantees } from "./access/grantees";
import { PolicyForm, type PolicyEditor } from "./access/PolicyForm";

/** The order the server decides in: highest priority first, deny before allow, then oldest first. */
const byPrecedence = (a: Policy, b: Policy) =>
  b.priority - a.priority || (a.effect === b.effect ? 0 : a.effect === "deny" ? -1 : 1) || a.created_at.localeCompare(b.created_at);

function conditionsText(conditions: Policy["conditions"]): string {
  const parts: string[] = [];
  if (conditions.ip_allowlist) parts.push(`from ${conditions.ip_allowlist.join(", ")}`);
  if (conditions.not_before) parts.push(`not before ${formatDate(conditions.not_before)}`);
  if (conditions.not_after) parts.push(`not after ${formatDate(conditions.not_after)}`);
  return parts.length > 0 ? parts.join("; ") : "none";
}

export function AccessTab({ vault }: { vault: Vault }) {
  const client = useClient();
  const me = useMe();
  const listAgents = managesOrg(me);
  const [policies, setPolicies] = useState<Policy[] | null>(null);
  const [agents, setAgents] = useState<Agent[]>([]);
  const [members, setMembers] = useState<Member[]>([]);
  const [secretPaths, setSecretPaths] = useState<string[]>([]);
  const [loadError, setLoadError] = useState<ShardvaultError | null>(null);
  const [editor, setEditor] = useState<PolicyEditor | null>(null);
  const [deleting, setDeleting] = useState<Policy | null>(null);

  const load = useCallback(async () => {
    const [policyAnswer, secretAnswer, memberAnswer, agentAnswer] = await Promise.all([
      client.access.listGrants(vault.id),
      client.secrets.list(vault.id),
      client.org.listMembers(),
      listAgents ? client.agents.list() : null,
    ]);
    setLoadError(policyAnswer.error ?? secretAnswer.error ?? memberAnswer.error ?? agentAnswer?.error ?? null);
    if (policyAnswer.data) setPolicies([...policyAnswer.data.policies].sort(byPrecedence));
    if (secretAnswer.data) setSecretPaths(secretAnswer.data.secrets.map((s) => s.path).sort());
    if (memberAnswer.data) setMembers(memberAnswer.data.members);
    if (agentAnswer?.data) setAgents(agentAnswer.data.agents);
  }, [client, vault.id, listAgents]);

  useEffect(() => {
    void load();
  }, [load]);

  const grantees = useMemo(() => toGrantees(agents, members), [agents, members]);
  const saved = (policy: Policy) => {
    setEditor(null);
    setPolicies((list) => [...(list ?? []).filter((p) => p.id !== policy.id), policy].sort(byPrecedence));
  };

  return (
    <div className="access">
      <div className="card-head">
        <div>
          <h2 className="card-title">Policies</h2>
          <p className="muted small">
            Agents and members reach this vault only through these. Owners, admins and the vault&apos;s creator manage it whatever they say.
          </p>
        </div>
        <button type="button" className="btn btn-sm" onClick={() => setEditor({ mode: "create" })} disabled={policies === null}>
          Add policy
        </button>
      </div>
      <ErrorNote error={loadError} />
      {policies === null && !loadError ? <Spinner label="Loading policies…" /> : null}
      {policies && policies.length === 0 ? (
        <EmptyState title="No policies yet">
          <p>No agent or member reaches this vault except those who manage it. Add a policy to grant access.</p>
        </EmptyState>
      ) : null}
      {policies && policies.length > 0 ? (
        <ul className="policy-list" aria-label="Policies, in the order they decide">
          {policies.map((policy) => {
            const who = granteeLabel(grantees, policy);
            const matched = secretPaths.filter((path) => matchesPattern(policy.secret_path_pattern, path)).length;
            const expired = policy.expires_at !== null && Date.parse(policy.expires_at) <= Date.now();
            return (
              <li key={policy.id} className="card policy-item">
                <div className="policy-main">
                  <p className="policy-head">
                    <Badge tone={policy.effect === "allow" ? "ok" : "bad"}>{policy.effect}</Badge>
                    <span className="policy-who">{who}</span>
                    <Badge tone="neutral">{policy.principal_type === "agent" ? "agent" : "member"}</Badge>
                    {expired ? <Badge tone="warn">expired</Badge> : null}
                  </p>
                  <p className="policy-pattern">
                    <code>{policy.secret_path_pattern}</code>{" "}
                    <span className="muted small">
                      {matched} existing {matched === 1 ? "secret" : "secrets"}
                    </span>
                  </p>
                  <dl className="facts facts-inline">
                    <div>
                      <dt>Permissions</dt>
                      <dd>{policy.permissions.join(", ")}</dd>
                    </div>
                    <div>
                      <dt>Priority</dt>
                      <dd>{policy.priority}</dd>
                    </div>
                    <div>
                      <dt>Expires</dt>
                      <dd>{policy.expires_at ? formatDate(policy.expires_at) : "never"}</dd>
                    </div>
                    <div>
                      <dt>Conditions</dt>
                      <dd>{conditionsText(policy.conditions)}</dd>
                    </div>
                  </dl>
                </div>
                <div className="policy-actions">
                  <button
                    type="button"
                    className="btn btn-secondary btn-sm"
                    onClick={() => setEditor({ mode: "edit", policy })}
                    aria-label={`Edit policy for ${who} on ${policy.secret_path_pattern}`}
                  >
                    Edit
                  </button>
                  <button
                    type="button"
                    className="btn btn-danger-outline btn-sm"
                    onClick={() => setDeleting(policy)}
                    aria-label={`Delete policy for ${who} on ${policy.secret_path_pattern}`}
                  >
                    Delete
                  </button>
                </div>
              </li>
            );
          })}
        </ul>
      ) : null}
      {me && !listAgents ? <p className="small muted">Only owners and admins can list agents: ask one to grant an agent access to this vault.</p> : null}

      {editor ? <PolicyForm vault={vault} editor={editor} grantees={grantees} secretPaths={secretPaths} onClose={() => setEditor(null)} onSaved={saved} /> : null}
      {deleting ? (
        <ConfirmDialog
          title={`Delete the policy for ${granteeLabel(grantees, deleting)}?`}
          confirmLabel="Delete policy"
          busyLabel="Deleting…"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            const { error } = await client.access.revoke(vault.id, deleting.id);
            if (!error) setPolicies((list) => (list ?? []).filter((p) => p.id !== deleting.id));
            return error;
          }}
        >
          <p>
            {deleting.effect === "allow"
              ? `${granteeLabel(grantees, deleting)} loses ${deleting.permissions.join(", ")} on `
              : `${granteeLabel(grantees, deleting)} is no longer denied ${deleting.permissions.join(", ")} on `}
            <code>{deleting.secret_path_pattern}</code> from its next request, unless another policy decides otherwise.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
