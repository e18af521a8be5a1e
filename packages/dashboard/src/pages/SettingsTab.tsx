/**
 * The Settings tab: the MPC Secret Storage card (choose a custody mode and enable it after a confirmation;
 * read-only once enabled, the mode being immutable, with the key lifecycle jobs) and the CMEK card.
 */
import { useCallback, useEffect, useId, useState } from "react";
import type { CustodyModeName, HsmHealth, ShardvaultError, Vault } from "@shardvault/sdk";
import { useClient } from "../api";
import { ClientShareReminder, clientShareItems, ShownOnceModal, type ShownOnceItem } from "../components/ShownOnce";
import { Badge, ConfirmDialog, CopyButton, ErrorNote, Spinner } from "../components/ui";
import { clientShareWarning, CUSTODY_MODES, custodyMode, holderName, trustLine } from "../custody";
import { MpcLifecycle } from "./settings/MpcLifecycle";

type ProviderHealth = NonNullable<HsmHealth["providers"]>[number];

export function SettingsTab({ vault, onVaultChange }: { vault: Vault; onVaultChange: (vault: Vault) => void }) {
  const client = useClient();
  const [health, setHealth] = useState<HsmHealth | null>(null);
  const [healthError, setHealthError] = useState<ShardvaultError | null>(null);
  const [healthLoading, setHealthLoading] = useState(false);

  const loadHealth = useCallback(async () => {
    setHealthLoading(true);
    const answer = await client.health.hsm();
    setHealthLoading(false);
    setHealthError(answer.error);
    if (answer.data) setHealth(answer.data);
  }, [client]);

  useEffect(() => {
    void loadHealth();
  }, [loadHealth]);

  return (
    <div className="settings-grid">
      <MpcCard vault={vault} onVaultChange={onVaultChange} health={health} healthError={healthError} healthLoading={healthLoading} onRefreshHealth={() => void loadHealth()} />
      <CmekCard vault={vault} />
    </div>
  );
}

function MpcCard({
  vault,
  onVaultChange,
  health,
  healthError,
  healthLoading,
  onRefreshHealth,
}: {
  vault: Vault;
  onVaultChange: (vault: Vault) => void;
  health: HsmHealth | null;
  healthError: ShardvaultError | null;
  healthLoading: boolean;
  onRefreshHealth: () => void;
}) {
  const client = useClient();
  const [choice, setChoice] = useState<CustodyModeName>(CUSTODY_MODES[0]!.name);
  const [confirming, setConfirming] = useState(false);
  // Client shares of re-protected secrets: held only while their modal is open.
  const [shares, setShares] = useState<ShownOnceItem[] | null>(null);
  const selectId = useId();
  const modesId = useId();
  const enabled = custodyMode(vault.mpc_custody);

  const enable = async (): Promise<ShardvaultError | null> => {
    const answer = await client.vault.enableMpc(vault.id, { custody_mode: choice });
    if (answer.error) return answer.error;
    const { client_shares, ...updated } = answer.data;
    if (client_shares && client_shares.length > 0) setShares(clientShareItems(client_shares));
    onVaultChange(updated);
    return null;
  };

  const shownMode = enabled ?? custodyMode(choice)!;
  const slots = enabled ? (vault.mpc_providers ?? shownMode.defaultProviders) : shownMode.defaultProviders;
  const backends = new Map((health?.providers ?? []).map((p) => [p.slot, p]));
  const name = (slot: string) => holderName(slot, backends.get(slot));

  return (
    <section className="card settings-card" aria-labelledby="mpc-title">
      <div className="card-head">
        <h2 id="mpc-title" className="card-title">
          MPC Secret Storage
        </h2>
        {enabled ? <Badge tone="ok">Enabled</Badge> : <Badge>Not enabled</Badge>}
      </div>
      <p className="muted">
        Splits each secret version&apos;s data key across independent key providers{enabled?.clientShareRequired || (!enabled && custodyMode(choice)?.clientShareRequired) ? " and you" : ""}: no single
        holder can decrypt.
      </p>

      {enabled ? (
        <>
          <dl className="facts">
            <div>
              <dt>Custody mode</dt>
              <dd>
                {enabled.label} <code className="small">{enabled.name}</code>
              </dd>
            </div>
            <div>
              <dt>Threshold</dt>
              <dd>
                {vault.mpc_threshold ?? 2} of {slots.length} shares
              </dd>
            </div>
            <div>
              <dt>Split</dt>
              <dd>{enabled.split}</dd>
            </div>
            <div>
              <dt>Trust model</dt>
              <dd>{trustLine(enabled, slots, name)}</dd>
            </div>
          </dl>
          <h3 className="sub-title">Providers</h3>
          <ProviderSlots slots={slots} health={health} healthError={healthError} loading={healthLoading} onRefresh={onRefreshHealth} />
          <p className="small muted">The custody mode is immutable: it cannot be changed or turned off for this vault.</p>
          <ClientShareReminder vault={vault} />
          <MpcLifecycle vault={vault} mode={enabled} slots={slots} health={health} name={name} onVaultChange={onVaultChange} />
        </>
      ) : (
        <>
          <div className="field">
            <label htmlFor={selectId}>Custody mode</label>
            <select id={selectId} value={choice} onChange={(e) => setChoice(e.target.value as CustodyModeName)} aria-describedby={modesId}>
              {CUSTODY_MODES.map((mode) => (
                <option key={mode.name} value={mode.name}>
                  {mode.label}
                </option>
              ))}
            </select>
          </div>
          <ul className="mode-list" id={modesId} aria-label="Trust model of each mode">
            {CUSTODY_MODES.map((mode) => (
              <li key={mode.name} className={mode.name === choice ? "mode-line selected" : "mode-line"}>
                <span className="mode-name">
                  {mode.label}
                  {mode.name === choice ? <span className="visually-hidden"> (selected)</span> : null}
                </span>
                <span className="mode-trust">{trustLine(mode, mode.defaultProviders, name)}</span>
                <span className="mode-extra small muted">
                  {mode.bestFor} · {mode.clientShareRequired ? "client share on every read" : "no client share"} · {mode.overhead}
                </span>
              </li>
            ))}
          </ul>
          <h3 className="sub-title">Provider slots this mode will use</h3>
          <ProviderSlots slots={shownMode.defaultProviders} health={health} healthError={healthError} loading={healthLoading} onRefresh={onRefreshHealth} />
          <ClientShareReminder vault={{ mpc_custody: shownMode.name }} />
          <p className="small muted">Enabling re-protects every secret already in the vault. The custody mode cannot be changed afterwards.</p>
          <div className="actions actions-left">
            <button type="button" className="btn btn-primary" onClick={() => setConfirming(true)}>
              Enable MPC
            </button>
          </div>
        </>
      )}

      {confirming ? (
        <ConfirmDialog
          title={`Enable ${shownMode.label} on “${vault.name}”?`}
          confirmLabel="Enable MPC for good"
          busyLabel="Enabling MPC… re-protecting secrets"
          onConfirm={enable}
          onClose={() => setConfirming(false)}
        >
          <p>This cannot be undone: the custody mode of a vault can be neither changed nor turned off.</p>
          <p>Every secret already in the vault is re-protected now. {trustLine(shownMode, shownMode.defaultProviders, name)}</p>
          {shownMode.clientShareRequired ? <p>Each secret will then have a client share that you must keep: it is shown once.</p> : null}
        </ConfirmDialog>
      ) : null}

      {shares ? (
        <ShownOnceModal
          title="Store the client shares of your existing secrets"
          what="client share"
          warning={`Enabling MPC re-protected the secrets already in this vault. ${clientShareWarning(vault.mpc_custody ? vault : { mpc_custody: choice })}`}
          items={shares}
          allFileName={`${vault.name.replace(/[^A-Za-z0-9._-]+/g, "_")}-client-shares.json`}
          onClose={() => setShares(null)}
        />
      ) : null}
    </section>
  );
}

const healthTone = (status: string) => (status === "ok" ? "ok" : status === "degraded" ? "warn" : "bad");

function ProviderSlots({
  slots,
  health,
  healthError,
  loading,
  onRefresh,
}: {
  slots: string[];
  health: HsmHealth | null;
  healthError: ShardvaultError | null;
  loading: boolean;
  onRefresh: () => void;
}) {
  const bySlot = new Map<string, ProviderHealth>((health?.providers ?? []).map((p) => [p.slot, p]));
  return (
    <div className="slots-wrap">
      <ul className="slots" aria-label="Share holders and their health">
        {slots.map((slot, index) => {
          if (slot === "client") {
            return (
              <li key={slot} className="slot">
                <span className="slot-index">Share {index + 1}</span>
                <span className="slot-name">client</span>
                <span className="slot-backend muted">you: returned with each write, sent with each read</span>
                <Badge tone="info">held by you</Badge>
              </li>
            );
          }
          const p = bySlot.get(slot);
          return (
            <li key={slot} className="slot">
              <span className="slot-index">Share {index + 1}</span>
              <span className="slot-name">{slot}</span>
              <span className="slot-backend muted">
                {p ? `${p.backend}${p.development ? " (development)" : ""} · ${Math.round(p.last_latency_ms)} ms` : health ? "not configured on this server" : "—"}
                {p && p.corrupt_shares > 0 ? ` · ${p.corrupt_shares} corrupt share${p.corrupt_shares === 1 ? "" : "s"}` : ""}
              </span>
              {p ? <Badge tone={healthTone(p.status)}>{p.status}</Badge> : health ? <Badge tone="bad">missing</Badge> : <Badge>unknown</Badge>}
            </li>
          );
        })}
      </ul>
      <div className="slots-foot">
        {loading ? <Spinner label="Checking provider health…" /> : <span className="small muted">Overall key provider health: {health ? health.status : "unknown"}</span>}
        <button type="button" className="btn btn-secondary btn-sm" onClick={onRefresh} disabled={loading}>
          Refresh health
        </button>
      </div>
      <ErrorNote error={healthError} />
    </div>
  );
}

function CmekCard({ vault }: { vault: Vault }) {
  return (
    <section className="card settings-card" aria-labelledby="cmek-title">
      <div className="card-head">
        <h2 id="cmek-title" className="card-title">
          Client-managed key (CMEK)
        </h2>
        {vault.cmek_enabled ? <Badge tone="ok">Enabled</Badge> : <Badge>Not enabled</Badge>}
      </div>
      {vault.cmek_enabled && vault.cmek_fingerprint ? (
        <>
          <p className="muted">New values must be encrypted client-side with the key of this fingerprint (SHA-256). Losing the key loses the data.</p>
          <dl className="facts">
            <div>
              <dt>Key fingerprint</dt>
              <dd>
                <code className="fingerprint">{vault.cmek_fingerprint}</code>
              </dd>
            </div>
          </dl>
          <div className="actions actions-left">
            <CopyButton text={vault.cmek_fingerprint} what="fingerprint" />
          </div>
        </>
      ) : (
        <>
          <p className="muted">
            An extra client-side layer: you encrypt each value with your own 32-byte key before it is sent;
            {vault.mpc_custody ? " the server's envelope and MPC split apply on top." : " the server's envelope applies on top."}
          </p>
          <dl className="facts">
            <div>
              <dt>Key fingerprint</dt>
              <dd className="muted">none — CMEK is off for this vault</dd>
            </div>
          </dl>
          <p className="small muted">
            Turn it on with <code>POST /v1/vaults/{vault.id}/cmek</code> and the key&apos;s fingerprint (Business or Enterprise plan).
          </p>
        </>
      )}
    </section>
  );
}
