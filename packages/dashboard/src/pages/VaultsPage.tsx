/** Vaults: the list, creation, and deletion (the confirmation names the vault). */
import { useCallback, useEffect, useId, useState, type FormEvent } from "react";
import type { ShardvaultError, Vault } from "@shardvault/sdk";
import { useClient } from "../api";
import { Badge, BusyButton, ConfirmDialog, EmptyState, ErrorNote, formatDate, Spinner } from "../components/ui";
import { custodyMode } from "../custody";
import { Link, paths } from "../router";

/** One order for the list, after a load and after a create alike: the newest vault first. */
const newestFirst = (vaults: Vault[]) => [...vaults].sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id));

export function VaultsPage() {
  const client = useClient();
  const [vaults, setVaults] = useState<Vault[] | null>(null);
  const [loadError, setLoadError] = useState<ShardvaultError | null>(null);
  const [deleting, setDeleting] = useState<Vault | null>(null);

  useEffect(() => {
    document.title = "Vaults — Shardvault";
  }, []);

  const load = useCallback(async () => {
    const { data, error } = await client.vault.list();
    setLoadError(error);
    if (data) setVaults(newestFirst(data.vaults));
  }, [client]);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section className="page-section" aria-labelledby="vaults-title">
      <div className="page-head">
        <div>
          <h1 id="vaults-title">Vaults</h1>
          <p className="muted">Each vault has its own keys; MPC and CMEK are set per vault.</p>
        </div>
      </div>

      <CreateVault onCreated={(vault) => setVaults((list) => newestFirst([vault, ...(list ?? [])]))} />

      <h2 className="section-title">Your vaults</h2>
      <ErrorNote error={loadError} />
      {vaults === null && !loadError ? <Spinner label="Loading vaults…" /> : null}
      {vaults && vaults.length === 0 ? (
        <EmptyState title="No vaults yet">
          <p>Create your first vault above, then add secrets to it.</p>
        </EmptyState>
      ) : null}
      {vaults && vaults.length > 0 ? (
        <ul className="vault-list">
          {vaults.map((vault) => (
            <li key={vault.id} className="card vault-item">
              <div className="vault-main">
                <Link to={paths.vault(vault.id)} className="vault-name">
                  {vault.name}
                </Link>
                {vault.description ? <p className="muted vault-desc">{vault.description}</p> : null}
                <p className="vault-tags">
                  {vault.mpc_custody ? <Badge tone="info">MPC · {custodyMode(vault.mpc_custody)?.label ?? vault.mpc_custody}</Badge> : <Badge>Standard envelope</Badge>}
                  {vault.cmek_enabled ? <Badge tone="info">CMEK</Badge> : null}
                  <span className="muted small">Created {formatDate(vault.created_at)}</span>
                </p>
              </div>
              <div className="vault-actions">
                <Link to={paths.vault(vault.id)} className="btn btn-secondary btn-sm" aria-label={`Open vault ${vault.name}`}>
                  Open
                </Link>
                <button type="button" className="btn btn-danger-outline btn-sm" onClick={() => setDeleting(vault)} aria-label={`Delete vault ${vault.name}`}>
                  Delete
                </button>
              </div>
            </li>
          ))}
        </ul>
      ) : null}

      {deleting ? (
        <ConfirmDialog
          title={`Delete vault “${deleting.name}”?`}
          confirmLabel={`Delete “${deleting.name}”`}
          busyLabel="Deleting…"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            const { error } = await client.vault.delete(deleting.id);
            if (!error) setVaults((list) => (list ?? []).filter((v) => v.id !== deleting.id));
            return error;
          }}
        >
          <p>
            The vault <strong>{deleting.name}</strong> and every secret in it will be deleted. Agents lose access to it. This cannot be undone from
            the dashboard.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

function CreateVault({ onCreated }: { onCreated: (vault: Vault) => void }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShardvaultError | null>(null);
  const nameId = useId();
  const descId = useId();

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const name = String(data.get("name") ?? "").trim();
    const description = String(data.get("description") ?? "").trim();
    setBusy(true);
    setError(null);
    const answer = await client.vault.create({ name, ...(description ? { description } : {}) });
    setBusy(false);
    if (answer.error) return setError(answer.error);
    form.reset();
    onCreated(answer.data);
  };

  return (
    <form className="card form-card" onSubmit={(e) => void submit(e)} aria-labelledby="create-vault-title">
      <h2 id="create-vault-title" className="card-title">
        Create a vault
      </h2>
      <div className="form-row">
        <div className="field">
          <label htmlFor={nameId}>Vault name</label>
          <input id={nameId} name="name" required maxLength={200} autoComplete="off" placeholder="payments" />
        </div>
        <div className="field field-grow">
          <label htmlFor={descId}>
            Description <span className="muted">(optional)</span>
          </label>
          <input id={descId} name="description" maxLength={2000} autoComplete="off" />
        </div>
        <div className="field field-action">
          <BusyButton type="submit" busy={busy} busyLabel="Creating…">
            Create vault
          </BusyButton>
        </div>
      </div>
      <ErrorNote error={error} />
    </form>
  );
}
