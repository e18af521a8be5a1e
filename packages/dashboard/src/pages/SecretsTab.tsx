/**
 * The Secrets tab: a folder-like tree of the vault's secrets (filtered by path prefix), one secret's versions,
 * its value on demand, and writes (create, new version, rotate-generate), deletion and disabling a version.
 * Writes in client-custody vaults answer a `client_share`, shown once in a modal and then dropped.
 */
import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent } from "react";
import type { Secret, SecretMeta, SecretWritten, ShardvaultError, Vault } from "@shardvault/sdk";
import { useClient } from "../api";
import { ClientShareReminder, clientShareItems, ShownOnceModal, type ShownOnceItem } from "../components/ShownOnce";
import { Badge, BusyButton, ConfirmDialog, CopyButton, EmptyState, ErrorNote, formatDate, Modal, Spinner } from "../components/ui";
import { CHARSETS, clientShareWarning, needsClientShare, SECRET_TYPES } from "../custody";

type Editor = { mode: "create"; folder: string } | { mode: "update"; meta: SecretMeta };

export function SecretsTab({ vault }: { vault: Vault }) {
  const client = useClient();
  const [prefix, setPrefix] = useState("");
  const [secrets, setSecrets] = useState<SecretMeta[] | null>(null);
  const [listError, setListError] = useState<ShardvaultError | null>(null);
  const [loading, setLoading] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const [editor, setEditor] = useState<Editor | null>(null);
  const [rotating, setRotating] = useState<SecretMeta | null>(null);
  const [deleting, setDeleting] = useState<SecretMeta | null>(null);
  // Client shares of the last write: held only while their modal is open.
  const [shares, setShares] = useState<ShownOnceItem[] | null>(null);
  // Bumped after a change to the selected secret, so its panel reloads.
  const [revision, setRevision] = useState(0);
  const prefixId = useId();

  const load = useCallback(
    async (nextPrefix: string) => {
      setLoading(true);
      const answer = await client.secrets.list(vault.id, nextPrefix || undefined);
      setLoading(false);
      setListError(answer.error);
      setSecrets(answer.data ? [...answer.data.secrets].sort((a, b) => a.path.localeCompare(b.path)) : []);
    },
    [client, vault.id],
  );

  useEffect(() => {
    void load(prefix);
  }, [load, prefix]);

  const selectedMeta = secrets?.find((s) => s.path === selected) ?? null;

  const written = (answer: SecretWritten) => {
    setEditor(null);
    setRotating(null);
    setSelected(answer.path);
    setRevision((r) => r + 1);
    if (answer.client_share) setShares(clientShareItems([{ path: answer.path, version: answer.version, client_share: answer.client_share }]));
    void load(prefix);
  };

  const applyPrefix = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget).get("prefix") ?? "").trim();
    setPrefix(value);
  };

  return (
    <div className="secrets-layout">
      <div className="secrets-side card">
        <div className="side-head">
          <h2 className="card-title">Secrets</h2>
          <button type="button" className="btn btn-sm" onClick={() => setEditor({ mode: "create", folder: prefix })}>
            New secret
          </button>
        </div>
        <form className="prefix-form" onSubmit={applyPrefix} role="search">
          <label htmlFor={prefixId}>Filter by prefix</label>
          <div className="inline-input">
            <input id={prefixId} key={prefix} name="prefix" defaultValue={prefix} placeholder="e.g. api-keys/" autoComplete="off" spellCheck={false} />
            <button type="submit" className="btn btn-secondary btn-sm">
              Filter
            </button>
          </div>
        </form>
        {prefix ? (
          <p className="small muted filter-note">
            Showing paths starting with <code>{prefix}</code>.{" "}
            <button type="button" className="link-button" onClick={() => setPrefix("")}>
              Show all
            </button>
          </p>
        ) : null}
        <ErrorNote error={listError} />
        {secrets === null || (loading && secrets.length === 0) ? <Spinner label="Loading secrets…" /> : null}
        {secrets && secrets.length === 0 && !loading && !listError ? (
          <EmptyState title={prefix ? "No secrets match this prefix" : "No secrets yet"}>
            <p>{prefix ? `Nothing in this vault starts with “${prefix}”.` : "Add the first secret with “New secret”."}</p>
          </EmptyState>
        ) : null}
        {secrets && secrets.length > 0 ? <SecretTree secrets={secrets} selected={selected} onSelect={setSelected} onFilter={setPrefix} /> : null}
      </div>

      <div className="secrets-main">
        {selectedMeta ? (
          <SecretDetail
            key={`${selectedMeta.path}#${revision}`}
            vault={vault}
            meta={selectedMeta}
            onEdit={() => setEditor({ mode: "update", meta: selectedMeta })}
            onRotate={() => setRotating(selectedMeta)}
            onDelete={() => setDeleting(selectedMeta)}
            onChanged={() => {
              setRevision((r) => r + 1);
              void load(prefix);
            }}
          />
        ) : (
          <div className="card placeholder-card">
            <EmptyState title="No secret selected">
              <p>Choose a secret in the tree to see its versions and reveal its value.</p>
            </EmptyState>
            <ClientShareReminder vault={vault} />
          </div>
        )}
      </div>

      {editor ? <SecretForm vault={vault} editor={editor} onClose={() => setEditor(null)} onWritten={written} /> : null}
      {rotating ? <RotateForm vault={vault} meta={rotating} onClose={() => setRotating(null)} onWritten={written} /> : null}
      {deleting ? (
        <ConfirmDialog
          title={`Delete secret “${deleting.path}”?`}
          confirmLabel={`Delete “${deleting.path}”`}
          busyLabel="Deleting…"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            const { error } = await client.secrets.delete(vault.id, deleting.path);
            if (!error) {
              setSelected(null);
              void load(prefix);
            }
            return error;
          }}
        >
          <p>
            Every version of <code>{deleting.path}</code> will be deleted. A later write to this path starts a new version; the deleted ones cannot be read again.
          </p>
        </ConfirmDialog>
      ) : null}
      {shares ? (
        <ShownOnceModal
          title="Store this client share"
          what="client share"
          warning={clientShareWarning(vault)}
          items={shares}
          allFileName="client-shares.json"
          onClose={() => setShares(null)}
        />
      ) : null}
    </div>
  );
}

// ---- the tree ---------------------------------------------------------------------------------------------

interface Folder {
  name: string;
  path: string;
  folders: Map<string, Folder>;
  secrets: SecretMeta[];
}

function buildTree(secrets: SecretMeta[]): Folder {
  const root: Folder = { name: "", path: "", folders: new Map(), secrets: [] };
  for (const secret of secrets) {
    const segments = secret.path.split("/");
    let folder = root;
    for (const segment of segments.slice(0, -1)) {
      let next = folder.folders.get(segment);
      if (!next) {
        next = { name: segment, path: folder.path ? `${folder.path}/${segment}` : segment, folders: new Map(), secrets: [] };
        folder.folders.set(segment, next);
      }
      folder = next;
    }
    folder.secrets.push(secret);
  }
  return root;
}

const countSecrets = (folder: Folder): number => folder.secrets.length + [...folder.folders.values()].reduce((n, f) => n + countSecrets(f), 0);

function SecretTree({ secrets, selected, onSelect, onFilter }: { secrets: SecretMeta[]; selected: string | null; onSelect: (path: string) => void; onFilter: (prefix: string) => void }) {
  const tree = useMemo(() => buildTree(secrets), [secrets]);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const toggle = (path: string) =>
    setCollapsed((set) => {
      const next = new Set(set);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });

  const renderFolder = (folder: Folder, depth: number) => (
    <ul className={depth === 0 ? "tree" : "tree-group"} aria-label={depth === 0 ? "Secrets by path" : undefined}>
      {[...folder.folders.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((child) => {
          const open = !collapsed.has(child.path);
          return (
            <li key={`d:${child.path}`}>
              <div className="tree-row">
                <button type="button" className="tree-folder" aria-expanded={open} onClick={() => toggle(child.path)}>
                  <svg aria-hidden="true" viewBox="0 0 20 20" className={open ? "icon chevron open" : "icon chevron"}>
                    <path d="M7 5l5 5-5 5" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
                  </svg>
                  <svg aria-hidden="true" viewBox="0 0 20 20" className="icon folder-icon">
                    <path d="M2.5 5.5a1 1 0 011-1h4l2 2h7a1 1 0 011 1v8a1 1 0 01-1 1h-13a1 1 0 01-1-1z" fill="currentColor" />
                  </svg>
                  <span className="tree-name">{child.name}/</span>
                  <span className="tree-count">
                    {countSecrets(child)}
                    <span className="visually-hidden"> {countSecrets(child) === 1 ? "secret" : "secrets"}</span>
                  </span>
                </button>
                <button type="button" className="tree-filter" onClick={() => onFilter(`${child.path}/`)} aria-label={`Show only ${child.path}/`} title={`Show only ${child.path}/`}>
                  <svg aria-hidden="true" viewBox="0 0 20 20" className="icon">
                    <path d="M3 4h14l-5.5 6.5V16l-3 1.5v-7z" fill="none" stroke="currentColor" strokeWidth="1.7" strokeLinejoin="round" />
                  </svg>
                </button>
              </div>
              {open ? renderFolder(child, depth + 1) : null}
            </li>
          );
        })}
      {folder.secrets.map((secret) => {
        const name = secret.path.split("/").pop()!;
        return (
          <li key={`s:${secret.path}`}>
            <button type="button" className="tree-leaf" aria-current={selected === secret.path ? "true" : undefined} onClick={() => onSelect(secret.path)} aria-label={`${secret.path}, version ${secret.version}, ${secret.type}`}>
              <svg aria-hidden="true" viewBox="0 0 20 20" className="icon key-icon">
                <circle cx="7" cy="10" r="3.2" fill="none" stroke="currentColor" strokeWidth="1.8" />
                <path d="M10.2 10H17M14.5 10v2.5M16.8 10v2" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
              </svg>
              <span className="tree-name">{name}</span>
              <span className="tree-version">v{secret.version}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );

  return <nav aria-label="Secret tree">{renderFolder(tree, 0)}</nav>;
}

// ---- one secret -------------------------------------------------------------------------------------------

const AUTO_HIDE_SECONDS = 30;

function SecretDetail({
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
          <button type="button" className="btn btn-danger-outline btn-sm" onClick={onDelete}>
            Delete
          </button>
        </div>
      </div>

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

/**
 * The value, hidden until asked for. In client-custody vaults the client share is typed (or pasted) for one
 * read: it is sent with that request only and the field is cleared at once. A revealed value hides itself
 * after AUTO_HIDE_SECONDS.
 */
function RevealPanel({
  vault,
  path,
  versions,
  version,
  onVersion,
  revealRequest,
  clientMode,
}: {
  vault: Vault;
  path: string;
  versions: SecretMeta[] | null;
  version: number | "latest";
  onVersion: (version: number | "latest") => void;
  revealRequest: number;
  clientMode: boolean;
}) {
  const client = useClient();
  const [revealed, setRevealed] = useState<{ secret: Secret; hidesAt: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShardvaultError | null>(null);
  const [now, setNow] = useState(Date.now());
  const shareRef = useRef<HTMLInputElement>(null);
  const versionId = useId();
  const shareId = useId();
  const shareHintId = useId();
  const valueId = useId();

  const hide = useCallback(() => setRevealed(null), []);

  useEffect(() => {
    if (!revealed) return;
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    const timer = window.setTimeout(hide, Math.max(0, revealed.hidesAt - Date.now()));
    return () => {
      window.clearInterval(tick);
      window.clearTimeout(timer);
    };
  }, [revealed, hide]);

  const reveal = async (wanted: number | "latest") => {
    let clientShare: string | undefined;
    if (clientMode) {
      const field = shareRef.current;
      clientShare = field?.value.trim() ?? "";
      // The share is used for this one request only.
      if (field) field.value = "";
      if (!clientShare) {
        setError({ type: "validation_error", code: "client_share_required", message: "", detail: "Paste the client share of this version to reveal it." });
        field?.focus();
        return;
      }
    }
    setBusy(true);
    setError(null);
    setRevealed(null);
    const options = clientShare !== undefined ? { clientShare } : {};
    const answer = wanted === "latest" ? await client.secrets.get(vault.id, path, options) : await client.secrets.getVersion(vault.id, path, wanted, options);
    clientShare = undefined;
    setBusy(false);
    if (answer.error) {
      setError(answer.error);
      return;
    }
    setNow(Date.now());
    setRevealed({ secret: answer.data, hidesAt: Date.now() + AUTO_HIDE_SECONDS * 1000 });
  };

  // "Reveal" on a version row: without a share to ask for, reveal at once; otherwise ask for it.
  useEffect(() => {
    if (revealRequest === 0) return;
    if (clientMode) shareRef.current?.focus();
    else void reveal(version);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [revealRequest]);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    void reveal(version);
  };

  const readable = (versions ?? []).filter((v) => !v.is_disabled);
  const secondsLeft = revealed ? Math.max(0, Math.ceil((revealed.hidesAt - now) / 1000)) : 0;

  return (
    <section className="reveal" aria-labelledby={`${valueId}-title`}>
      <h3 className="sub-title" id={`${valueId}-title`}>
        Value
      </h3>
      <form className="reveal-form" onSubmit={submit}>
        <div className="field">
          <label htmlFor={versionId}>Version</label>
          <select id={versionId} value={String(version)} onChange={(e) => onVersion(e.target.value === "latest" ? "latest" : Number(e.target.value))}>
            <option value="latest">Latest</option>
            {readable.map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version}
              </option>
            ))}
          </select>
        </div>
        {clientMode ? (
          <div className="field field-grow">
            <label htmlFor={shareId}>Client share</label>
            <input
              id={shareId}
              ref={shareRef}
              name="client_share"
              type="password"
              autoComplete="off"
              spellCheck={false}
              placeholder="the base64 share returned when this version was written"
              aria-describedby={shareHintId}
            />
            <p className="hint" id={shareHintId}>
              Sent with this one read as <code>X-Client-Share</code>, then cleared.
            </p>
          </div>
        ) : null}
        <div className="field field-action">
          <BusyButton type="submit" busy={busy} busyLabel="Decrypting…">
            Reveal value
          </BusyButton>
        </div>
      </form>
      <ErrorNote error={error} />
      {revealed ? (
        <div className="revealed">
          <div className="revealed-head">
            <span className="small">
              Version {revealed.secret.version}
              {revealed.secret.cmek_encrypted ? " · CMEK ciphertext (decrypt with your key)" : ""}
            </span>
            <span className="small muted">Hides in {secondsLeft} s</span>
          </div>
          <pre className="code-block secret-value" id={valueId}>
            {revealed.secret.value}
          </pre>
          <div className="actions actions-left">
            <CopyButton text={revealed.secret.value} what="value" />
            <button type="button" className="btn btn-secondary btn-sm" onClick={hide}>
              Hide
            </button>
          </div>
        </div>
      ) : (
        <p className="masked">
          <span aria-hidden="true">••••••••••••••••</span>
          <span className="small muted">Hidden. Reveal it when you need it; it hides again after {AUTO_HIDE_SECONDS} s.</span>
        </p>
      )}
    </section>
  );
}

// ---- writes -----------------------------------------------------------------------------------------------

function SecretForm({ vault, editor, onClose, onWritten }: { vault: Vault; editor: Editor; onClose: () => void; onWritten: (answer: SecretWritten) => void }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShardvaultError | string | null>(null);
  const ids = { path: useId(), type: useId(), value: useId(), metadata: useId(), metaHint: useId(), pathHint: useId() };
  const updating = editor.mode === "update";
  const current = updating ? editor.meta : null;

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const path = current ? current.path : String(data.get("path") ?? "").trim();
    const type = String(data.get("type") ?? "generic");
    const value = String(data.get("value") ?? "");
    const metadataText = String(data.get("metadata") ?? "").trim();
    let metadata: Record<string, unknown> | undefined;
    if (metadataText) {
      try {
        const parsed: unknown = JSON.parse(metadataText);
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
        metadata = parsed as Record<string, unknown>;
      } catch {
        setError('Metadata must be a JSON object, e.g. {"owner": "payments"}.');
        return;
      }
    }
    setBusy(true);
    setError(null);
    const answer = await client.secrets.put(vault.id, path, { type: type as SecretMeta["type"], value, ...(metadata ? { metadata } : {}) });
    setBusy(false);
    if (answer.error) return setError(answer.error);
    // The value leaves page state with the form.
    form.reset();
    onWritten(answer.data);
  };

  return (
    <Modal title={updating ? `New version of “${current!.path}”` : "New secret"} onClose={onClose} wide>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        {updating ? null : (
          <div className="field">
            <label htmlFor={ids.path}>Path</label>
            <input
              id={ids.path}
              name="path"
              required
              defaultValue={editor.mode === "create" ? editor.folder : ""}
              placeholder="api-keys/stripe"
              autoComplete="off"
              spellCheck={false}
              aria-describedby={ids.pathHint}
              className="mono"
            />
            <p className="hint" id={ids.pathHint}>
              Segments of letters, digits, <code>-</code>, <code>_</code> and <code>.</code>, joined by <code>/</code>.
            </p>
          </div>
        )}
        <div className="field">
          <label htmlFor={ids.type}>Type</label>
          <select id={ids.type} name="type" defaultValue={current?.type ?? "generic"}>
            {SECRET_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.value}>Value</label>
          <textarea id={ids.value} name="value" required rows={4} autoComplete="off" spellCheck={false} className="mono" />
          {vault.cmek_enabled ? <p className="hint">This is a CMEK vault: the value must be your client-side ciphertext (standard base64).</p> : null}
        </div>
        <div className="field">
          <label htmlFor={ids.metadata}>
            Metadata <span className="muted">(optional JSON object)</span>
          </label>
          <textarea
            id={ids.metadata}
            name="metadata"
            rows={3}
            className="mono"
            spellCheck={false}
            defaultValue={current?.metadata && Object.keys(current.metadata).length > 0 ? JSON.stringify(current.metadata, null, 2) : ""}
            placeholder='{"owner": "payments"}'
            aria-describedby={ids.metaHint}
          />
          <p className="hint" id={ids.metaHint}>
            Stored in clear beside the secret: never put secret material here.
          </p>
        </div>
        <ClientShareReminder vault={vault} />
        <ErrorNote error={error} />
        <div className="actions">
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <BusyButton type="submit" busy={busy} busyLabel="Encrypting and saving…">
            {updating ? "Save new version" : "Create secret"}
          </BusyButton>
        </div>
      </form>
    </Modal>
  );
}

function RotateForm({ vault, meta, onClose, onWritten }: { vault: Vault; meta: SecretMeta; onClose: () => void; onWritten: (answer: SecretWritten) => void }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShardvaultError | null>(null);
  const lengthId = useId();
  const charsetId = useId();

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    const answer = await client.secrets.rotateGenerate(vault.id, meta.path, {
      length: Number(data.get("length")),
      charset: String(data.get("charset")) as (typeof CHARSETS)[number],
      type: meta.type,
    });
    setBusy(false);
    if (answer.error) return setError(answer.error);
    onWritten(answer.data);
  };

  return (
    <Modal title={`Rotate “${meta.path}”`} onClose={onClose}>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        <p>The server generates a new random value as the next version. The value is not shown; reveal it afterwards.</p>
        <div className="form-row">
          <div className="field">
            <label htmlFor={lengthId}>Length</label>
            <input id={lengthId} name="length" type="number" min={8} max={1024} defaultValue={32} required inputMode="numeric" />
          </div>
          <div className="field">
            <label htmlFor={charsetId}>Characters</label>
            <select id={charsetId} name="charset" defaultValue="hex">
              {CHARSETS.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </div>
        </div>
        <ErrorNote error={error} />
        <div className="actions">
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <BusyButton type="submit" busy={busy} busyLabel="Rotating…">
            Rotate now
          </BusyButton>
        </div>
      </form>
    </Modal>
  );
}
