/** Rotate-generate: a new version whose value the server picks (length and character set). */
import { useId, useState, type FormEvent } from "react";
import type { SecretMeta, SecretWritten, ShardvaultError, Vault } from "@shardvault/sdk";
import { useClient } from "../../api";
import { FormFoot, Modal } from "../../components/ui";
import { CHARSETS } from "../../custody";

export function RotateForm({ vault, meta, onClose, onWritten }: { vault: Vault; meta: SecretMeta; onClose: () => void; onWritten: (answer: SecretWritten) => void }) {
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
        <FormFoot error={error} onCancel={onClose} busy={busy} busyLabel="Rotating…">
          Rotate now
        </FormFoot>
      </form>
    </Modal>
  );
}
