/**
 * Adding or editing a policy: principal, path pattern (with the preview of the existing paths it matches),
 * permissions, allow or deny, priority, expiry and conditions. The server keeps a policy's principal and pattern
 * (delete and add to change those), so editing shows them read-only.
 */
import { useId, useState, type FormEvent } from "react";
import { patternProblem, POLICY_PERMISSIONS } from "@shardvault/api";
import type { Policy, PolicyEffect, PolicyPermission, ShardvaultError, Vault } from "@shardvault/sdk";
import { useClient } from "../../api";
import { FormFoot, Modal } from "../../components/ui";
import { fromLocalInput, toLocalInput } from "../../local-time";
import { granteeKey, granteeLabel, type Grantee } from "./grantees";
import { PatternPreview } from "./PatternPreview";

export type PolicyEditor = { mode: "create" } | { mode: "edit"; policy: Policy };

const PERMISSION_HINTS: Record<PolicyPermission, string> = {
  read: "values, listings, versions",
  write: "new versions, disabling versions",
  delete: "deleting secrets",
  rotate: "server-generated new versions",
};

type Conditions = Policy["conditions"];

/** The conditions fields as the API's object; an empty field is no condition. */
function readConditions(data: FormData, original: Conditions | undefined): Conditions | string {
  const conditions: Conditions = {};
  const allowlist = String(data.get("ip_allowlist") ?? "")
    .split(/[\s,]+/)
    .filter(Boolean);
  if (allowlist.length > 0) conditions.ip_allowlist = allowlist;
  for (const key of ["not_before", "not_after"] as const) {
    const raw = String(data.get(key) ?? "");
    const value = fromLocalInput(raw, original?.[key]);
    if (raw !== "" && value === undefined) return `${key === "not_before" ? "Not before" : "Not after"} is not a date and time.`;
    if (value !== undefined) conditions[key] = value;
  }
  return conditions;
}

export function PolicyForm({
  vault,
  editor,
  grantees,
  secretPaths,
  onClose,
  onSaved,
}: {
  vault: Vault;
  editor: PolicyEditor;
  grantees: Grantee[];
  secretPaths: readonly string[];
  onClose: () => void;
  onSaved: (policy: Policy) => void;
}) {
  const client = useClient();
  const current = editor.mode === "edit" ? editor.policy : null;
  const [pattern, setPattern] = useState(current?.secret_path_pattern ?? "**");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShardvaultError | string | null>(null);
  const ids = {
    principal: useId(),
    principalHint: useId(),
    pattern: useId(),
    preview: useId(),
    patternHint: useId(),
    priority: useId(),
    priorityHint: useId(),
    expires: useId(),
    allowlist: useId(),
    allowlistHint: useId(),
    notBefore: useId(),
    notAfter: useId(),
    timesHint: useId(),
  };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const permissions = data.getAll("permissions").map(String) as PolicyPermission[];
    const effect = String(data.get("effect") ?? "allow") as PolicyEffect;
    const priority = Number(data.get("priority") ?? 0);
    const expiresRaw = String(data.get("expires_at") ?? "");
    const expiresAt = fromLocalInput(expiresRaw, current?.expires_at);
    const conditions = readConditions(data, current?.conditions);
    const problem =
      (current ? undefined : patternProblem(pattern)) ??
      (permissions.length === 0 ? "Choose at least one permission." : undefined) ??
      (expiresRaw !== "" && expiresAt === undefined ? "Expires is not a date and time." : undefined);
    if (problem !== undefined) return setError(problem);
    if (typeof conditions === "string") return setError(conditions);
    setBusy(true);
    setError(null);
    let answer;
    if (current) {
      // Every field is sent: an emptied expiry or condition is cleared.
      answer = await client.access.update(vault.id, current.id, { permissions, effect, priority, expires_at: expiresAt ?? null, conditions });
    } else {
      const [type, id] = String(data.get("principal") ?? "").split(":") as ["user" | "agent", string];
      const options = {
        secretPathPattern: pattern,
        effect,
        priority,
        ...(expiresAt !== undefined ? { expires_at: expiresAt } : {}),
        ...(Object.keys(conditions).length > 0 ? { conditions } : {}),
      };
      answer = type === "agent" ? await client.access.grantAgent(vault.id, id, permissions, options) : await client.access.grantHuman(vault.id, id, permissions, options);
    }
    setBusy(false);
    if (answer.error) return setError(answer.error);
    onSaved(answer.data);
  };

  const agents = grantees.filter((g) => g.type === "agent");
  const members = grantees.filter((g) => g.type === "user");

  return (
    <Modal title={current ? "Edit policy" : "Add a policy"} onClose={onClose} wide>
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        {current ? (
          <dl className="facts">
            <div>
              <dt>Principal</dt>
              <dd>{granteeLabel(grantees, current)}</dd>
            </div>
            <div>
              <dt>Path pattern</dt>
              <dd>
                <code>{current.secret_path_pattern}</code>
              </dd>
            </div>
          </dl>
        ) : (
          <>
            <div className="field">
              <label htmlFor={ids.principal}>Principal</label>
              <select id={ids.principal} name="principal" required aria-describedby={ids.principalHint} defaultValue={agents[0] ? granteeKey(agents[0]) : members[0] ? granteeKey(members[0]) : ""}>
                {agents.length > 0 ? (
                  <optgroup label="Agents">
                    {agents.map((g) => (
                      <option key={g.id} value={granteeKey(g)}>
                        {g.label}
                      </option>
                    ))}
                  </optgroup>
                ) : null}
                <optgroup label="Members">
                  {members.map((g) => (
                    <option key={g.id} value={granteeKey(g)}>
                      {g.label}
                    </option>
                  ))}
                </optgroup>
              </select>
              <p className="hint" id={ids.principalHint}>
                Owners and admins reach every vault whatever its policies: policies are for agents and members.
              </p>
            </div>
            <div className="field">
              <label htmlFor={ids.pattern}>Path pattern</label>
              <input
                id={ids.pattern}
                name="secret_path_pattern"
                required
                value={pattern}
                onChange={(e) => {
                  setPattern(e.target.value);
                  setError(null);
                }}
                autoComplete="off"
                spellCheck={false}
                className="mono"
                aria-describedby={`${ids.patternHint} ${ids.preview}`}
                aria-invalid={patternProblem(pattern) !== undefined || undefined}
              />
              <p className="hint" id={ids.patternHint}>
                <code>*</code> is exactly one path segment, <code>**</code> any number of them (none too): <code>prod/*</code> covers{" "}
                <code>prod/db</code>, <code>prod/**</code> also <code>prod/db/password</code>, <code>**</code> the whole vault.
              </p>
            </div>
          </>
        )}
        <PatternPreview pattern={pattern} paths={secretPaths} id={ids.preview} />

        <fieldset>
          <legend>Permissions</legend>
          <div className="checks">
            {POLICY_PERMISSIONS.map((permission) => (
              <label key={permission} className="check">
                <input type="checkbox" name="permissions" value={permission} defaultChecked={current ? current.permissions.includes(permission) : permission === "read"} />
                <span>
                  {permission} <span className="muted small">({PERMISSION_HINTS[permission]})</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>

        <div className="form-row">
          <fieldset className="field-fieldset">
            <legend>Effect</legend>
            <div className="checks">
              {(["allow", "deny"] as const).map((effect) => (
                <label key={effect} className="check">
                  <input type="radio" name="effect" value={effect} defaultChecked={(current?.effect ?? "allow") === effect} />
                  <span>{effect}</span>
                </label>
              ))}
            </div>
          </fieldset>
          <div className="field field-narrow">
            <label htmlFor={ids.priority}>Priority</label>
            <input id={ids.priority} name="priority" type="number" min={0} step={1} required inputMode="numeric" defaultValue={current?.priority ?? 0} aria-describedby={ids.priorityHint} />
          </div>
          <div className="field">
            <label htmlFor={ids.expires}>
              Expires <span className="muted">(optional)</span>
            </label>
            <input id={ids.expires} name="expires_at" type="datetime-local" defaultValue={toLocalInput(current?.expires_at)} aria-describedby={ids.timesHint} />
          </div>
        </div>
        <p className="hint" id={ids.priorityHint}>
          Among the policies that match a path, the highest priority decides; at equal priority deny wins.
        </p>

        <fieldset>
          <legend>
            Conditions <span className="muted">(optional; all must hold)</span>
          </legend>
          <div className="stack">
            <div className="field">
              <label htmlFor={ids.allowlist}>IP allowlist</label>
              <textarea
                id={ids.allowlist}
                name="ip_allowlist"
                rows={2}
                className="mono"
                spellCheck={false}
                defaultValue={current?.conditions.ip_allowlist?.join("\n") ?? ""}
                placeholder={"10.0.0.0/8\n2001:db8::1"}
                aria-describedby={ids.allowlistHint}
              />
              <p className="hint" id={ids.allowlistHint}>
                Addresses or CIDRs, one per line: requests from elsewhere are refused. Behind a proxy the server sees the proxy&apos;s address.
              </p>
            </div>
            <div className="form-row">
              <div className="field">
                <label htmlFor={ids.notBefore}>Not before</label>
                <input id={ids.notBefore} name="not_before" type="datetime-local" defaultValue={toLocalInput(current?.conditions.not_before)} aria-describedby={ids.timesHint} />
              </div>
              <div className="field">
                <label htmlFor={ids.notAfter}>Not after</label>
                <input id={ids.notAfter} name="not_after" type="datetime-local" defaultValue={toLocalInput(current?.conditions.not_after)} aria-describedby={ids.timesHint} />
              </div>
            </div>
            <p className="hint" id={ids.timesHint}>
              Times are in your browser&apos;s time zone; empty means no limit.
            </p>
          </div>
        </fieldset>

        <FormFoot error={error} onCancel={onClose} busy={busy} busyLabel="Saving…">
          {current ? "Save policy" : "Add policy"}
        </FormFoot>
      </form>
    </Modal>
  );
}
