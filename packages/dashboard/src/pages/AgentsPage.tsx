/** Agents: the list, creation (the `ocv_` key shown once), deactivation and key rotation. */
import { useCallback, useEffect, useId, useState, type FormEvent } from "react";
import type { Agent, ShardvaultError, Vault } from "@shardvault/sdk";
import { useClient } from "../api";
import { ShownOnceModal } from "../components/ShownOnce";
import { Badge, BusyButton, ConfirmDialog, EmptyState, ErrorNote, formatDate, Spinner } from "../components/ui";

const AGENT_KEY_WARNING =
  "Shardvault stores only a hash of this agent API key. Give it to the agent now (e.g. as ONECLAW_AGENT_API_KEY in its secure environment); if it is lost, rotate the key to get a new one.";

type Pending = { kind: "rotate" | "deactivate" | "activate"; agent: Agent };

/** Enough of a vault's id to tell vaults of the same name apart. */
const idStart = (id: string) => id.slice(0, 8);

export function AgentsPage() {
  const client = useClient();
  const [agents, setAgents] = useState<Agent[] | null>(null);
  const [vaults, setVaults] = useState<Vault[]>([]);
  const [loadError, setLoadError] = useState<ShardvaultError | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  // A new agent key: held only while its modal is open.
  const [shownKey, setShownKey] = useState<{ agent: Agent; key: string } | null>(null);

  useEffect(() => {
    document.title = "Agents — Shardvault";
  }, []);

  const load = useCallback(async () => {
    const [agentAnswer, vaultAnswer] = await Promise.all([client.agents.list(), client.vault.list()]);
    setLoadError(agentAnswer.error ?? vaultAnswer.error);
    if (agentAnswer.data) setAgents(agentAnswer.data.agents);
    if (vaultAnswer.data) setVaults(vaultAnswer.data.vaults);
  }, [client]);

  useEffect(() => {
    void load();
  }, [load]);

  const replace = (agent: Agent) => setAgents((list) => (list ?? []).map((a) => (a.id === agent.id ? agent : a)));
  const vaultName = (id: string) => {
    const vault = vaults.find((v) => v.id === id);
    if (!vault) return `${id.slice(0, 8)}…`;
    // Vault names need not be unique: a shared one gets its id's start.
    return vaults.some((v) => v.id !== id && v.name === vault.name) ? `${vault.name} (${idStart(vault.id)})` : vault.name;
  };

  return (
    <section className="page-section" aria-labelledby="agents-title">
      <div className="page-head">
        <div>
          <h1 id="agents-title">Agents</h1>
          <p className="muted">Non-human principals: each has an ocv_ key and reads and writes secrets only in its vaults.</p>
        </div>
      </div>

      <CreateAgent
        vaults={vaults}
        onCreated={(agent, key) => {
          setAgents((list) => [agent, ...(list ?? [])]);
          setShownKey({ agent, key });
        }}
      />

      <h2 className="section-title">Your agents</h2>
      <ErrorNote error={loadError} />
      {agents === null && !loadError ? <Spinner label="Loading agents…" /> : null}
      {agents && agents.length === 0 ? (
        <EmptyState title="No agents yet">
          <p>Create an agent above to give a program its own key.</p>
        </EmptyState>
      ) : null}
      {agents && agents.length > 0 ? (
        <ul className="agent-list">
          {agents.map((agent) => (
            <li key={agent.id} className="card agent-item">
              <div className="agent-main">
                <p className="agent-name">
                  <span>{agent.name}</span> {agent.is_active ? <Badge tone="ok">active</Badge> : <Badge tone="warn">inactive</Badge>}
                </p>
                {agent.description ? <p className="muted">{agent.description}</p> : null}
                <dl className="facts facts-inline">
                  <div>
                    <dt>Key</dt>
                    <dd>
                      <code>{agent.key_prefix}…</code>
                    </dd>
                  </div>
                  <div>
                    <dt>Vaults</dt>
                    <dd>{agent.vault_ids.length === 0 ? "any a policy opens" : agent.vault_ids.map(vaultName).join(", ")}</dd>
                  </div>
                  <div>
                    <dt>Created</dt>
                    <dd>{formatDate(agent.created_at)}</dd>
                  </div>
                  <div>
                    <dt>Last used</dt>
                    <dd>{formatDate(agent.last_used_at)}</dd>
                  </div>
                </dl>
              </div>
              <div className="agent-actions">
                <button type="button" className="btn btn-secondary btn-sm" onClick={() => setPending({ kind: "rotate", agent })} aria-label={`Rotate key of agent ${agent.name}`}>
                  Rotate key
                </button>
                {agent.is_active ? (
                  <button type="button" className="btn btn-danger-outline btn-sm" onClick={() => setPending({ kind: "deactivate", agent })} aria-label={`Deactivate agent ${agent.name}`}>
                    Deactivate
                  </button>
                ) : (
                  <button type="button" className="btn btn-secondary btn-sm" onClick={() => setPending({ kind: "activate", agent })} aria-label={`Activate agent ${agent.name}`}>
                    Activate
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      ) : null}

      {pending?.kind === "rotate" ? (
        <ConfirmDialog
          title={`Rotate the key of “${pending.agent.name}”?`}
          confirmLabel="Rotate key"
          busyLabel="Rotating…"
          onClose={() => setPending(null)}
          onConfirm={async () => {
            const { data, error } = await client.agents.rotateKey(pending.agent.id);
            if (data) {
              replace(data.agent);
              setShownKey({ agent: data.agent, key: data.api_key });
            }
            return error;
          }}
        >
          <p>The current key of {pending.agent.name} and every token issued from it stop working at once. The new key is shown once.</p>
        </ConfirmDialog>
      ) : null}
      {pending?.kind === "deactivate" || pending?.kind === "activate" ? (
        <ConfirmDialog
          title={`${pending.kind === "deactivate" ? "Deactivate" : "Activate"} agent “${pending.agent.name}”?`}
          confirmLabel={pending.kind === "deactivate" ? "Deactivate" : "Activate"}
          busyLabel={pending.kind === "deactivate" ? "Deactivating…" : "Activating…"}
          onClose={() => setPending(null)}
          onConfirm={async () => {
            const { data, error } = await client.agents.update(pending.agent.id, { is_active: pending.kind === "activate" });
            if (data) replace(data);
            return error;
          }}
        >
          <p>
            {pending.kind === "deactivate"
              ? `${pending.agent.name} can no longer get tokens, and its current tokens stop working on their next request.`
              : `${pending.agent.name} can exchange its key for tokens again.`}
          </p>
        </ConfirmDialog>
      ) : null}
      {shownKey ? (
        <ShownOnceModal
          title={`API key of agent “${shownKey.agent.name}”`}
          what="agent API key"
          warning={AGENT_KEY_WARNING}
          items={[{ label: shownKey.agent.name, value: shownKey.key, fileName: `${shownKey.agent.name.replace(/[^A-Za-z0-9._-]+/g, "_")}.ocv_key` }]}
          onClose={() => setShownKey(null)}
        />
      ) : null}
    </section>
  );
}

function CreateAgent({ vaults, onCreated }: { vaults: Vault[]; onCreated: (agent: Agent, key: string) => void }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShardvaultError | null>(null);
  const ids = { name: useId(), desc: useId(), ttl: useId(), vaults: useId(), vaultsHint: useId() };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const name = String(data.get("name") ?? "").trim();
    const description = String(data.get("description") ?? "").trim();
    const ttl = String(data.get("ttl") ?? "").trim();
    const vaultIds = data.getAll("vault_ids").map(String);
    setBusy(true);
    setError(null);
    const answer = await client.agents.create({
      name,
      ...(description ? { description } : {}),
      ...(vaultIds.length > 0 ? { vault_ids: vaultIds } : {}),
      ...(ttl ? { token_ttl_seconds: Number(ttl) } : {}),
    });
    setBusy(false);
    if (answer.error) return setError(answer.error);
    form.reset();
    onCreated(answer.data.agent, answer.data.api_key);
  };

  return (
    <form className="card form-card" onSubmit={(e) => void submit(e)} aria-labelledby="create-agent-title">
      <h2 id="create-agent-title" className="card-title">
        Create an agent
      </h2>
      <div className="form-row">
        <div className="field">
          <label htmlFor={ids.name}>Agent name</label>
          <input id={ids.name} name="name" required maxLength={200} autoComplete="off" placeholder="ci-bot" />
        </div>
        <div className="field field-grow">
          <label htmlFor={ids.desc}>
            Description <span className="muted">(optional)</span>
          </label>
          <input id={ids.desc} name="description" maxLength={2000} autoComplete="off" />
        </div>
        <div className="field field-narrow">
          <label htmlFor={ids.ttl}>
            Token lifetime <span className="muted">(s, optional)</span>
          </label>
          <input id={ids.ttl} name="ttl" type="number" min={60} max={86400} inputMode="numeric" />
        </div>
      </div>
      <fieldset className="vault-picker" aria-describedby={ids.vaultsHint}>
        <legend>Vault access</legend>
        <p className="hint" id={ids.vaultsHint}>
          Tick the vaults policies may open to this agent; none ticked means no limit. The agent reads nothing until a
          policy on a vault allows it.
        </p>
        {vaults.length === 0 ? <p className="small muted">No vaults yet.</p> : null}
        <div className="checks">
          {vaults.map((vault) => (
            <label key={vault.id} className="check">
              <input type="checkbox" name="vault_ids" value={vault.id} />
              <span>{vault.name}</span> <code className="small muted">{idStart(vault.id)}</code>
            </label>
          ))}
        </div>
      </fieldset>
      <ErrorNote error={error} />
      <div className="actions actions-left">
        <BusyButton type="submit" busy={busy} busyLabel="Creating…">
          Create agent
        </BusyButton>
      </div>
    </form>
  );
}
