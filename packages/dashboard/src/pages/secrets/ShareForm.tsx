/**
 * Sharing a secret's latest version from its detail view: who it is for, how long, how many openings, and an
 * optional passphrase and address allow-list. The link is shown once, in this dialog: in a client-custody vault
 * it carries the key that opens the share (after `#k=`), which the server does not keep.
 */
import { useEffect, useId, useState, type FormEvent } from "react";
import type { CreateShareBody, SecretMeta, ShardvaultError, ShareCreated, Vault } from "@shardvault/sdk";
import { useClient } from "../../api";
import { CopyButton, ErrorNote, FormFoot, formatDate, Modal } from "../../components/ui";
import { needsClientShare } from "../../custody";

type Recipient = "anyone_with_link" | "user" | "agent" | "external_email";

const LIFETIMES: Array<[label: string, hours: number]> = [
  ["1 hour", 1],
  ["1 day", 24],
  ["7 days", 24 * 7],
  ["30 days", 24 * 30],
];

/** Members or agents to pick a recipient from, loaded when that kind of recipient is chosen. */
function useCandidates(kind: Recipient): { options: Array<{ id: string; label: string }> | null; error: ShardvaultError | null } {
  const client = useClient();
  const [state, setState] = useState<{ options: Array<{ id: string; label: string }> | null; error: ShardvaultError | null }>({ options: null, error: null });
  useEffect(() => {
    if (kind !== "user" && kind !== "agent") return;
    let live = true;
    setState({ options: null, error: null });
    const load = async () => {
      if (kind === "user") {
        const answer = await client.org.listMembers();
        return { options: answer.data?.members.map((m) => ({ id: m.id, label: m.email ? `${m.display_name || m.email} (${m.email})` : m.display_name || m.id })) ?? null, error: answer.error };
      }
      const answer = await client.agents.list();
      return { options: answer.data?.agents.map((a) => ({ id: a.id, label: `${a.name} (${a.id.slice(0, 8)})` })) ?? null, error: answer.error };
    };
    void load().then((next) => live && setState(next));
    return () => {
      live = false;
    };
  }, [client, kind]);
  return state;
}

export function ShareForm({ vault, meta, onClose }: { vault: Vault; meta: SecretMeta; onClose: () => void }) {
  const client = useClient();
  const clientMode = needsClientShare(vault.mpc_custody);
  const [recipient, setRecipient] = useState<Recipient>("anyone_with_link");
  const candidates = useCandidates(recipient);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShardvaultError | null>(null);
  const [created, setCreated] = useState<ShareCreated | null>(null);
  const ids = { recipient: useId(), who: useId(), email: useId(), lifetime: useId(), max: useId(), passphrase: useId(), ips: useId(), share: useId(), hint: useId() };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? "").trim();
    // Secret material is read once and the fields cleared: it goes with this one request only.
    for (const name of ["passphrase", "client_share"]) {
      const field = form.elements.namedItem(name) as HTMLInputElement | null;
      if (field) field.value = "";
    }
    const max = text("max_access_count");
    const ips = text("ip_allowlist");
    const passphrase = String(data.get("passphrase") ?? "");
    const body: CreateShareBody = {
      recipient_type: recipient,
      expires_at: new Date(Date.now() + Number(data.get("lifetime")) * 3_600_000).toISOString(),
      ...(recipient === "user" || recipient === "agent" ? { recipient_id: text("recipient_id") } : {}),
      ...(recipient === "external_email" ? { email: text("email") } : {}),
      ...(max ? { max_access_count: Number(max) } : {}),
      ...(passphrase ? { passphrase } : {}),
      ...(ips ? { ip_allowlist: ips.split(",").map((s) => s.trim()).filter(Boolean) } : {}),
    };
    setBusy(true);
    setError(null);
    const clientShare = text("client_share");
    const answer = await client.sharing.create(meta.id, body, clientMode ? { clientShare } : {});
    setBusy(false);
    if (answer.error) return setError(answer.error);
    setCreated(answer.data);
  };

  if (created) {
    const sealed = created.share_url.includes("#k=");
    return (
      <Modal title={`Share link for “${meta.path}”`} onClose={onClose} wide describedBy={ids.hint}>
        <div className={sealed ? "callout callout-warn" : "callout callout-info"} id={ids.hint}>
          {sealed ? (
            <>
              <strong>Shown only once — it cannot be recovered.</strong> The link carries the key that opens the share (after <code>#k=</code>); the server does
              not keep it. Hand on the whole link.
            </>
          ) : (
            <>Copy the link now: it is shown here once. Whoever holds it {created.recipient_type === "anyone_with_link" || created.recipient_type === "external_email" ? "can open the share" : "and is its recipient can open the share"}.</>
          )}
        </div>
        <ul className="once-list">
          <li className="once-item">
            <p className="once-label">
              Expires {formatDate(created.expires_at)}
              {created.max_access_count ? ` · opens at most ${created.max_access_count} time${created.max_access_count === 1 ? "" : "s"}` : " · no limit on openings"}
            </p>
            <code className="once-value">{created.share_url}</code>
            <div className="once-actions">
              <CopyButton text={created.share_url} what="share link" />
            </div>
          </li>
        </ul>
        <div className="actions">
          <button type="button" className="btn" onClick={onClose}>
            Done — close
          </button>
        </div>
      </Modal>
    );
  }

  return (
    <Modal title={`Share “${meta.path}”`} onClose={onClose} wide>
      <form className="stack" onSubmit={(e) => void submit(e)} autoComplete="off">
        <p>
          Shares version {meta.version}, as it is now: later versions are not shared. Every opening is audited; revoking the share stops it at once.
        </p>
        <div className="form-row">
          <div className="field field-grow">
            <label htmlFor={ids.recipient}>Who may open it</label>
            <select id={ids.recipient} value={recipient} onChange={(e) => setRecipient(e.target.value as Recipient)}>
              <option value="anyone_with_link">Anyone with the link</option>
              <option value="user">A member (with their own sign-in)</option>
              <option value="agent">An agent (with its own token)</option>
              <option value="external_email">Someone by email (you hand on the link)</option>
            </select>
          </div>
          {recipient === "user" || recipient === "agent" ? (
            <div className="field field-grow">
              <label htmlFor={ids.who}>{recipient === "user" ? "Member" : "Agent"}</label>
              <select id={ids.who} name="recipient_id" required disabled={!candidates.options}>
                {(candidates.options ?? []).map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.label}
                  </option>
                ))}
              </select>
            </div>
          ) : null}
          {recipient === "external_email" ? (
            <div className="field field-grow">
              <label htmlFor={ids.email}>Email address</label>
              <input id={ids.email} name="email" type="email" required autoComplete="off" />
            </div>
          ) : null}
        </div>
        <ErrorNote error={candidates.error} />
        <div className="form-row">
          <div className="field">
            <label htmlFor={ids.lifetime}>Expires after</label>
            <select id={ids.lifetime} name="lifetime" defaultValue="24">
              {LIFETIMES.map(([label, hours]) => (
                <option key={hours} value={hours}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={ids.max}>Openings allowed (empty: no limit)</label>
            <input id={ids.max} name="max_access_count" type="number" min={1} max={1_000_000} defaultValue={1} inputMode="numeric" />
          </div>
        </div>
        <div className="form-row">
          <div className="field field-grow">
            <label htmlFor={ids.passphrase}>Passphrase (optional)</label>
            <input id={ids.passphrase} name="passphrase" type="password" autoComplete="new-password" spellCheck={false} />
          </div>
          <div className="field field-grow">
            <label htmlFor={ids.ips}>Allowed addresses (optional)</label>
            <input id={ids.ips} name="ip_allowlist" type="text" placeholder="203.0.113.0/24, 198.51.100.7" spellCheck={false} />
          </div>
        </div>
        {clientMode ? (
          <div className="field">
            <label htmlFor={ids.share}>Client share of version {meta.version}</label>
            <input id={ids.share} name="client_share" type="password" required autoComplete="off" spellCheck={false} />
            <p className="hint">
              The server opens the value with it once, seals it under a new key that only the link will carry, and forgets both.
            </p>
          </div>
        ) : null}
        <FormFoot error={error} onCancel={onClose} busy={busy} busyLabel="Sharing…">
          Create share link
        </FormFoot>
      </form>
    </Modal>
  );
}
