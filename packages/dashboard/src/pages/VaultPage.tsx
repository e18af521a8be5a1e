/** One vault: its header and the Secrets, Access (for those who manage the vault) and Settings tabs. */
import { useCallback, useEffect, useRef, useState, type KeyboardEvent } from "react";
import type { ShardvaultError, Vault } from "@shardvault/sdk";
import { managesVault } from "../access";
import { useClient, useMe } from "../api";
import { Badge, ErrorNote, Spinner } from "../components/ui";
import { custodyMode } from "../custody";
import { Link, paths, useRouter, type VaultTab as Tab } from "../router";
import { AccessTab } from "./AccessTab";
import { SecretsTab } from "./SecretsTab";
import { SettingsTab } from "./SettingsTab";

const ALL_TABS: Array<{ id: Tab; label: string }> = [
  { id: "secrets", label: "Secrets" },
  { id: "access", label: "Access" },
  { id: "settings", label: "Settings" },
];

export function VaultPage({ vaultId, tab }: { vaultId: string; tab: Tab }) {
  const client = useClient();
  const me = useMe();
  const { navigate } = useRouter();
  const [vault, setVault] = useState<Vault | null>(null);
  const [error, setError] = useState<ShardvaultError | null>(null);
  const tabRefs = useRef<Record<Tab, HTMLButtonElement | null>>({ secrets: null, access: null, settings: null });
  // Policies are for those who manage the vault; an address typed in still opens the tab (the server answers).
  const tabs = ALL_TABS.filter((t) => t.id !== "access" || tab === "access" || (vault !== null && managesVault(me, vault)));

  const load = useCallback(async () => {
    const answer = await client.vault.get(vaultId);
    setError(answer.error);
    if (answer.data) setVault(answer.data);
  }, [client, vaultId]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    document.title = `${vault ? vault.name : "Vault"} · ${ALL_TABS.find((t) => t.id === tab)!.label} — Shardvault`;
  }, [vault, tab]);

  const select = (next: Tab, focus = false) => {
    navigate(paths.vault(vaultId, next), { replace: true });
    if (focus) tabRefs.current[next]?.focus();
  };

  const onTabKey = (event: KeyboardEvent<HTMLButtonElement>) => {
    const index = tabs.findIndex((t) => t.id === tab);
    let next: number | undefined;
    if (event.key === "ArrowRight") next = (index + 1) % tabs.length;
    else if (event.key === "ArrowLeft") next = (index - 1 + tabs.length) % tabs.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = tabs.length - 1;
    if (next === undefined) return;
    event.preventDefault();
    select(tabs[next]!.id, true);
  };

  if (!vault) {
    return (
      <section className="page-section">
        <p className="crumbs">
          <Link to={paths.vaults()}>All vaults</Link>
        </p>
        <h1>Vault</h1>
        {error ? <ErrorNote error={error} /> : <Spinner label="Loading the vault…" />}
      </section>
    );
  }

  const mode = custodyMode(vault.mpc_custody);
  return (
    <section className="page-section" aria-labelledby="vault-title">
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link to={paths.vaults()}>All vaults</Link>
        <span aria-hidden="true"> / </span>
        <span aria-current="page">{vault.name}</span>
      </nav>
      <div className="page-head">
        <div>
          <h1 id="vault-title">{vault.name}</h1>
          {vault.description ? <p className="muted">{vault.description}</p> : null}
          <p className="vault-tags">
            {mode ? <Badge tone="info">MPC · {mode.label}</Badge> : <Badge>Standard envelope</Badge>}
            {vault.cmek_enabled ? <Badge tone="info">CMEK</Badge> : null}
            <span className="muted small mono">{vault.id}</span>
          </p>
        </div>
      </div>

      <div role="tablist" aria-label="Vault sections" className="tabs">
        {tabs.map((t) => (
          <button
            key={t.id}
            ref={(el) => {
              tabRefs.current[t.id] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={tab === t.id ? `panel-${t.id}` : undefined}
            tabIndex={tab === t.id ? 0 : -1}
            className="tab"
            onClick={() => select(t.id)}
            onKeyDown={onTabKey}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tabpanel">
        {tab === "secrets" ? <SecretsTab vault={vault} /> : null}
        {tab === "access" ? <AccessTab vault={vault} /> : null}
        {tab === "settings" ? <SettingsTab vault={vault} onVaultChange={setVault} /> : null}
      </div>
    </section>
  );
}
