/**
 * The Secrets tab: a folder-like tree of the vault's secrets (filtered by path prefix), one secret's versions,
 * its value on demand, and writes (create, new version, rotate-generate), deletion and disabling a version.
 * Writes in client-custody vaults answer a `client_share`, shown once in a modal and then dropped.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from "react";
import type { SecretMeta, SecretWritten, ShardvaultError, Vault } from "@shardvault/sdk";
import { useClient } from "../api";
import { ClientShareReminder, clientShareItems, ShownOnceModal, type ShownOnceItem } from "../components/ShownOnce";
import { ConfirmDialog, EmptyState, ErrorNote, Spinner } from "../components/ui";
import { clientShareWarning } from "../custody";
import { RotateForm } from "./secrets/RotateForm";
import { SecretDetail } from "./secrets/SecretDetail";
import { SecretForm, type Editor } from "./secrets/SecretForm";
import { SecretTree } from "./secrets/SecretTree";

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
