/** A secret's value, hidden until asked for; in client-custody vaults, opened in the browser with the client share. */
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import type { SecretMeta, ShardvaultError, Vault } from "@shardvault/sdk";
import { useClient } from "../../api";
import { readSecretValue, type RevealedSecret } from "../../secret-values";
import { AUTO_HIDE_SECONDS, RevealedValue, useAutoHide } from "../../components/RevealedValue";
import { BusyButton, ErrorNote } from "../../components/ui";

/**
 * The value, hidden until asked for. In client-custody vaults the client share is typed (or pasted) for one
 * reveal: the browser opens the sealed version with it (`secret-values.ts`), never sends it, and clears the
 * field at once. A revealed value hides itself after AUTO_HIDE_SECONDS.
 */
export function RevealPanel({
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
  const { shown: revealed, show, hide, secondsLeft } = useAutoHide<RevealedSecret>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShardvaultError | null>(null);
  const shareRef = useRef<HTMLInputElement>(null);
  const versionId = useId();
  const shareId = useId();
  const shareHintId = useId();
  const valueId = useId();

  const reveal = async (wanted: number | "latest") => {
    const field = shareRef.current;
    const clientShare = clientMode ? (field?.value.trim() ?? "") : undefined;
    // The share is used for this one reveal only, in this page: it is never sent.
    if (field) field.value = "";
    setBusy(true);
    setError(null);
    hide();
    const answer = await readSecretValue(client, vault, path, wanted, clientShare);
    setBusy(false);
    if (answer.error) {
      setError(answer.error);
      if (answer.error.code === "client_share_required") field?.focus();
      return;
    }
    show(answer.data);
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
              Used in this browser to decrypt this one reveal, then cleared: it is never sent to the server.
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
        <RevealedValue
          value={revealed.value}
          id={valueId}
          secondsLeft={secondsLeft}
          onHide={hide}
          heading={`Version ${revealed.version}${revealed.cmek_encrypted ? " · CMEK ciphertext (decrypt with your key)" : ""}`}
        />
      ) : (
        <p className="masked">
          <span aria-hidden="true">••••••••••••••••</span>
          <span className="small muted">Hidden. Reveal it when you need it; it hides again after {AUTO_HIDE_SECONDS} s.</span>
        </p>
      )}
    </section>
  );
}
