/**
 * The MPC key lifecycle of an MPC vault: rotate its KEKs, move its share off a provider (lost or
 * compromised), refresh its shares (multi-HSM). Each runs as a server-side job after a confirmation; the
 * card follows the job's progress until it ends.
 */
import { useEffect, useId, useState } from "react";
import type { HsmHealth, MpcJob, MpcJobKind, ShardvaultError, Vault } from "@shardvault/sdk";
import { useClient } from "../../api";
import { ConfirmDialog, ErrorNote } from "../../components/ui";
import type { CustodyMode } from "../../custody";

const POLL_MS = 1000;

const KIND_LABEL: Record<MpcJobKind, string> = {
  rotate: "KEK rotation",
  replace_provider: "Provider replacement",
  refresh: "Share refresh",
};

export function MpcLifecycle({
  vault,
  mode,
  slots,
  health,
  name,
  onVaultChange,
}: {
  vault: Vault;
  mode: CustodyMode;
  slots: readonly string[];
  health: HsmHealth | null;
  name: (slot: string) => string;
  onVaultChange: (vault: Vault) => void;
}) {
  const client = useClient();
  const [asking, setAsking] = useState<MpcJobKind | null>(null);
  const [job, setJob] = useState<MpcJob | null>(null);
  const [pollError, setPollError] = useState<ShardvaultError | null>(null);
  const serverSlots = slots.filter((s) => s !== "client");
  const spareSlots = (health?.providers ?? []).map((p) => p.slot).filter((s) => !slots.includes(s));
  const [from, setFrom] = useState(serverSlots[0] ?? "");
  const [to, setTo] = useState("");
  const ids = { from: useId(), to: useId() };
  const running = job !== null && (job.status === "pending" || job.status === "running");

  // Follows the job until it ends; a replacement changes the vault's holders, so the vault is read again.
  useEffect(() => {
    if (!job || !running) return;
    const timer = setTimeout(async () => {
      const answer = await client.vault.mpc.job(vault.id, job.id);
      if (answer.error) return setPollError(answer.error);
      setJob(answer.data);
      if (answer.data.status === "completed" && answer.data.kind === "replace_provider") {
        const fresh = await client.vault.get(vault.id);
        if (fresh.data) onVaultChange(fresh.data);
      }
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [client, job, running, vault.id, onVaultChange]);

  const start = async (kind: MpcJobKind): Promise<ShardvaultError | null> => {
    const answer =
      kind === "rotate"
        ? await client.vault.mpc.rotate(vault.id)
        : kind === "refresh"
          ? await client.vault.mpc.refresh(vault.id)
          : await client.vault.mpc.replaceProvider(vault.id, { from, to });
    if (answer.error) return answer.error;
    setPollError(null);
    setJob({ id: answer.data.job_id, kind: answer.data.kind, status: answer.data.status, processed: 0, total: 0 });
    return null;
  };

  return (
    <div className="lifecycle">
      <h3 className="sub-title">Key lifecycle</h3>
      <p className="small muted">Jobs run on the server; reads and writes keep working meanwhile.</p>
      <div className="actions actions-left">
        <button type="button" className="btn btn-secondary btn-sm" disabled={running} onClick={() => setAsking("rotate")}>
          Rotate KEKs
        </button>
        <button type="button" className="btn btn-secondary btn-sm" disabled={running || spareSlots.length === 0} onClick={() => setAsking("replace_provider")}>
          Replace a provider
        </button>
        {mode.clientShareRequired ? null : (
          <button type="button" className="btn btn-secondary btn-sm" disabled={running} onClick={() => setAsking("refresh")}>
            Refresh shares
          </button>
        )}
      </div>

      {job ? (
        <div className="job" role="status" aria-live="polite">
          <span>
            {KIND_LABEL[job.kind]}: {job.status}
            {job.total > 0 ? ` — ${job.processed} of ${job.total} secret versions` : ""}
          </span>
          {running ? <progress max={Math.max(job.total, 1)} value={job.processed} aria-label={`${KIND_LABEL[job.kind]} progress`} /> : null}
          {job.error ? <span className="small"> ({job.error})</span> : null}
        </div>
      ) : null}
      <ErrorNote error={pollError} />

      {asking === "rotate" ? (
        <ConfirmDialog title="Rotate this vault's KEKs?" confirmLabel="Rotate KEKs" busyLabel="Starting…" onConfirm={() => start("rotate")} onClose={() => setAsking(null)}>
          <p>A new KEK is made at every slot ({serverSlots.map(name).join(", ")}), every share is re-wrapped under it, and the old KEKs are disabled at the end.</p>
        </ConfirmDialog>
      ) : null}
      {asking === "refresh" ? (
        <ConfirmDialog title="Refresh this vault's shares?" confirmLabel="Refresh shares" busyLabel="Starting…" onConfirm={() => start("refresh")} onClose={() => setAsking(null)}>
          <p>Every data key is split again with fresh coefficients: a share leaked before the refresh no longer combines with the new ones.</p>
        </ConfirmDialog>
      ) : null}
      {asking === "replace_provider" ? (
        <ConfirmDialog
          title="Move this vault's share to another provider?"
          confirmLabel="Replace the provider"
          busyLabel="Starting…"
          onConfirm={() => start("replace_provider")}
          onClose={() => setAsking(null)}
        >
          <div className="field">
            <label htmlFor={ids.from}>From</label>
            <select id={ids.from} value={from} onChange={(e) => setFrom(e.target.value)}>
              {serverSlots.map((slot) => (
                <option key={slot} value={slot}>
                  {name(slot)}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={ids.to}>To</label>
            <select id={ids.to} value={to} onChange={(e) => setTo(e.target.value)} required>
              <option value="">Choose a slot…</option>
              {spareSlots.map((slot) => (
                <option key={slot} value={slot}>
                  {name(slot)}
                </option>
              ))}
            </select>
          </div>
          <p className="small">
            The share held by <strong>{from ? name(from) : "…"}</strong> moves to the new slot; the old provider can be unreachable.
            {mode.serverMovesLostShare ? "" : " In this vault, if the provider is gone, each secret is moved with its client share (secret refresh)."}
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
