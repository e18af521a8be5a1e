/** One secret in the Secrets tab: its versions, their actions (disable), and the value on demand. */
import { useEffect, useState } from "react";
import type { SecretMeta, ShardvaultError, Vault } from "@shardvault/sdk";
import { useClient } from "../../api";
import { Badge, ConfirmDialog, ErrorNote, formatDate, Spinner } from "../../components/ui";
import { needsClientShare } from "../../custody";
import { RevealPanel } from "./RevealPanel";
import { ShareForm } from "./ShareForm";

export function SecretDetail({
  vault,
  meta,
  onEdit,
  onRotate,
  onDelete,
  onChanged,
}: {
  vault: Vault;
  meta: SecretMeta;
  onEdit: () => void;
  onRotate: () => void;
  onDelete: () => void;
  onChanged: () => void;
}) {
  const client = useClient();
  const [versions, setVersions] = useState<SecretMeta[] | null>(null);
  const [versionsError, setVersionsError] = useState<ShardvaultError | null>(null);
  const [disabling, setDisabling] = useState<SecretMeta | null>(null);
  const [revealVersion, setRevealVersion] = useState<number | "latest">("latest");
  const [revealRequest, setRevealRequest] = useState(0);
  const [sharing, setSharing] = useState(false);
  const clientMode = needsClientShare(vault.mpc_custody);

  useEffect(() => {
    void client.secrets.listVersions(vault.id, meta.path).then((answer) => {
      setVersionsError(answer.error);
      setVersions(answer.data ? [...answer.data.versions].sort((a, b) => b.version - a.version) : []);
    });
  }, [client, vault.id, meta.path]);

  const metadata = meta.metadata && Object.keys(meta.metadata).length > 0 ? JSON.stringify(meta.metadata, null, 2) : null;

  return (
    <article className="card detail" aria-labelledby="secret-title">
      <div className="detail-head">
        <div className="detail-title">
          <h2 id="secret-title" className="mono break">
            {meta.path}
          </h2>
          <p className="vault-tags">
            <Badge>{meta.type}</Badge>
            <Badge tone="info">latest v{meta.version}</Badge>
            <span className="muted small">Written {formatDate(meta.created_at)}</span>
          </p>
        </div>
        <div className="detail-actions">
          <button type="button" className="btn btn-secondary btn-sm" onClick={onEdit}>
            New version
          </button>
          <button type="button" className="btn btn-secondary btn-sm" onClick={onRotate} disabled={vault.cmek_enabled} title={vault.cmek_enabled ? "The server cannot generate values in a CMEK vault" : undefined}>
            Rotate
          </button>
          <button type="button" className="btn btn-secondary btn-sm" onClick={() => setSharing(true)} disabled={vault.cmek_enabled} title={vault.cmek_enabled ? "A CMEK value cannot be read by a recipient" : undefined}>
            Share
          </button>
          <button type="button" className="btn btn-danger-outline btn-sm" onClick={onDelete}>
            Delete
          </button>
        </div>
      </div>
      {sharing ? <ShareForm vault={vault} meta={meta} onClose={() => setSharing(false)} /> : null}

      {metadata ? (
        <div className="metadata">
          <h3 className="sub-title">Metadata</h3>
          <pre className="code-block code-light">{metadata}</pre>
        </div>
      ) : null}

      <RevealPanel
        vault={vault}
        path={meta.path}
        versions={versions}
        version={revealVersion}
        onVersion={setRevealVersion}
        revealRequest={revealRequest}
        clientMode={clientMode}
      />

      <h3 className="sub-title">Versions</h3>
      <ErrorNote error={versionsError} />
      {versions === null && !versionsError ? <Spinner label="Loading versions…" /> : null}
      {versions && versions.length > 0 ? (
        <ul className="version-list">
          {versions.map((v) => (
            <li key={v.version} className="version-row">
              <span className="version-num">v{v.version}</span>
              <span className="version-meta">
                <span>{formatDate(v.created_at)}</span>
                <span className="muted">{v.type}</span>
                {v.is_disabled ? <Badge tone="warn">disabled</Badge> : v.version === meta.version ? <Badge tone="ok">latest</Badge> : null}
                {v.expires_at ? <span className="muted small">expires {formatDate(v.expires_at)}</span> : null}
              </span>
              <span className="version-actions">
                <button
                  type="button"
                  className="btn btn-secondary btn-sm"
                  disabled={Boolean(v.is_disabled)}
                  aria-label={`View version ${v.version}`}
                  onClick={() => {
                    setRevealVersion(v.version);
                    setRevealRequest((n) => n + 1);
                  }}
                >
                  View
                </button>
                <button type="button" className="btn btn-danger-outline btn-sm" disabled={Boolean(v.is_disabled)} aria-label={`Disable version ${v.version}`} onClick={() => setDisabling(v)}>
                  Disable
                </button>
              </span>
            </li>
          ))}
        </ul>
      ) : null}

      {disabling ? (
        <ConfirmDialog
          title={`Disable version ${disabling.version} of “${meta.path}”?`}
          confirmLabel={`Disable version ${disabling.version}`}
          busyLabel="Disabling…"
          onClose={() => setDisabling(null)}
          onConfirm={async () => {
            const { error } = await client.secrets.disableVersion(vault.id, meta.path, disabling.version);
            if (!error) onChanged();
            return error;
          }}
        >
          <p>
            Version {disabling.version} of <code>{meta.path}</code> can no longer be read. Reading the latest version skips disabled ones.
          </p>
        </ConfirmDialog>
      ) : null}
    </article>
  );
}
