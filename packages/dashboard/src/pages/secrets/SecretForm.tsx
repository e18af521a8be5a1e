/**
 * Writing a secret: a new one in a folder, or a new version of one (type, value, metadata as JSON). In
 * client-custody vaults the value is sealed in the browser (`secret-values.ts`).
 */
import { useId, useState, type FormEvent } from "react";
import type { SecretMeta, SecretWritten, ShardvaultError, Vault } from "@shardvault/sdk";
import { useClient } from "../../api";
import { ClientShareReminder } from "../../components/ShownOnce";
import { FormFoot, Modal } from "../../components/ui";
import { KNOWN_SECRET_TYPES, needsClientShare } from "../../custody";
import { writeSecretValue } from "../../secret-values";

export type Editor = { mode: "create"; folder: string } | { mode: "update"; meta: SecretMeta };

export function SecretForm({ vault, editor, onClose, onWritten }: { vault: Vault; editor: Editor; onClose: () => void; onWritten: (answer: SecretWritten) => void }) {
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
    const answer = await writeSecretValue(client, vault, path, value, { type: type as SecretMeta["type"], ...(metadata ? { metadata } : {}) });
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
            {typeChoices(current?.type).map((t) => (
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
          {needsClientShare(vault.mpc_custody) ? <p className="hint">Encrypted in this browser: the server receives the sealed value, never the value or its client share.</p> : null}
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
        <FormFoot error={error} onCancel={onClose} busy={busy} busyLabel="Encrypting and saving…">
          {updating ? "Save new version" : "Create secret"}
        </FormFoot>
      </form>
    </Modal>
  );
}

/**
 * The picker's types: the known ones, plus the secret's own when another client wrote one the dashboard does
 * not know (types are open), so that updating a secret keeps its type rather than falling back to the first.
 */
const typeChoices = (currentType: string | undefined): readonly string[] =>
  currentType === undefined || (KNOWN_SECRET_TYPES as readonly string[]).includes(currentType) ? KNOWN_SECRET_TYPES : [...KNOWN_SECRET_TYPES, currentType];
