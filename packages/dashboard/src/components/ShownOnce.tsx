/**
 * Material the server returns exactly once (client shares, agent keys, invitation tokens). The parent holds it
 * only while this modal is open and drops it on close, so nothing of it stays in page state.
 */
import { useId } from "react";
import { clientShareReminder, type CustodyFacts } from "../custody";
import { CopyButton, DownloadButton, Modal, downloadText } from "./ui";

export interface ShownOnceItem {
  /** What it is, e.g. "api-keys/stripe, version 3". */
  label: string;
  value: string;
  fileName: string;
}

export function ShownOnceModal({
  title,
  what,
  warning,
  items,
  onClose,
  allFileName,
}: {
  title: string;
  /** "client share", "agent API key", "invitation". */
  what: string;
  warning: string;
  items: ShownOnceItem[];
  onClose: () => void;
  allFileName?: string;
}) {
  const warningId = useId();
  return (
    <Modal title={title} onClose={onClose} wide describedBy={warningId}>
      <div className="callout callout-warn" id={warningId}>
        <strong>Shown only once — it cannot be recovered.</strong> {warning}
      </div>
      <ul className="once-list">
        {items.map((item) => (
          <li key={item.label + item.value.slice(0, 8)} className="once-item">
            <p className="once-label">{item.label}</p>
            <code className="once-value">{item.value}</code>
            <div className="once-actions">
              <CopyButton text={item.value} what={`${what} for ${item.label}`} />
              <DownloadButton fileName={item.fileName} text={`${item.value}\n`} what={`${what} for ${item.label}`} />
            </div>
          </li>
        ))}
      </ul>
      <div className="actions">
        {items.length > 1 && allFileName ? (
          <button
            type="button"
            className="btn btn-secondary"
            onClick={() => downloadText(allFileName, JSON.stringify(items.map(({ label, value }) => ({ for: label, [what.replace(/ /g, "_")]: value })), null, 2) + "\n")}
          >
            Download all ({items.length})
          </button>
        ) : null}
        <button type="button" className="btn" onClick={onClose}>
          I have stored it — close
        </button>
      </div>
    </Modal>
  );
}

/** The per-mode reminder beside a client-custody vault's secrets; nothing in other vaults. */
export function ClientShareReminder({ vault }: { vault: CustodyFacts }) {
  const reminder = clientShareReminder(vault);
  return reminder ? <p className="callout callout-warn">{reminder}</p> : null;
}

/** File-name safe: `api-keys/stripe` version 3 → `api-keys_stripe.v3.share`. */
export const shareFileName = (path: string, version: number) => `${path.replace(/[^A-Za-z0-9._-]+/g, "_")}.v${version}.share`;

export const clientShareItems = (shares: Array<{ path: string; version: number; client_share: string }>): ShownOnceItem[] =>
  shares.map((s) => ({ label: `${s.path}, version ${s.version}`, value: s.client_share, fileName: shareFileName(s.path, s.version) }));
