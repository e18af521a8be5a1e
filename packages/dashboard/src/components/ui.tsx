/** Small shared pieces: errors, progress, dialogs, copy and download. */
import { useEffect, useId, useRef, useState, type ButtonHTMLAttributes, type ReactNode } from "react";
import type { ShardvaultError } from "@shardvault/sdk";

/** An API error, shown where the action was taken, as the API's own `detail`. */
export function ErrorNote({ error, id }: { error: ShardvaultError | string | null | undefined; id?: string }) {
  if (!error) return null;
  const text = typeof error === "string" ? error : error.detail;
  return (
    <p className="error-note" role="alert" id={id}>
      <svg aria-hidden="true" viewBox="0 0 20 20" className="icon">
        <path d="M10 2l8.5 15h-17z" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinejoin="round" />
        <path d="M10 8v4M10 14.5v.5" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
      </svg>
      <span>{text}</span>
    </p>
  );
}

export function Spinner({ label }: { label: string }) {
  return (
    <span className="spinner-wrap" role="status">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </span>
  );
}

/** A button that shows progress (and refuses clicks) while its action runs. */
export function BusyButton({ busy, busyLabel, children, className, ...rest }: { busy: boolean; busyLabel: string } & ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button {...rest} className={className ?? "btn"} disabled={busy || rest.disabled} aria-busy={busy || undefined}>
      {busy ? (
        <>
          <span className="spinner spinner-sm" aria-hidden="true" />
          {busyLabel}
        </>
      ) : (
        children
      )}
    </button>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <svg aria-hidden="true" viewBox="0 0 48 48" className="empty-icon">
        <rect x="8" y="12" width="32" height="26" rx="4" fill="none" stroke="currentColor" strokeWidth="2.5" />
        <path d="M8 20h32M18 12V9h12v3" fill="none" stroke="currentColor" strokeWidth="2.5" />
      </svg>
      <p className="empty-title">{title}</p>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

export function Badge({ tone = "neutral", children }: { tone?: "neutral" | "ok" | "warn" | "bad" | "info"; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export const formatDate = (iso: string | null | undefined) => {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
};

/**
 * A modal dialog on the native `<dialog>`: focus moves into it, the page behind is inert, Escape closes.
 */
export function Modal({
  title,
  onClose,
  children,
  wide,
  describedBy,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
  describedBy?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    const onCancel = (event: Event) => {
      event.preventDefault();
      closeRef.current();
    };
    dialog.addEventListener("cancel", onCancel);
    return () => {
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      // Back to where the user was.
      if (opener && document.contains(opener)) opener.focus();
    };
  }, []);
  return (
    <dialog ref={ref} className={wide ? "modal modal-wide" : "modal"} aria-labelledby={titleId} aria-describedby={describedBy}>
      <div className="modal-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="btn-icon" onClick={onClose} aria-label="Dismiss">
          <svg aria-hidden="true" viewBox="0 0 20 20" className="icon">
            <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
          </svg>
        </button>
      </div>
      <div className="modal-body">{children}</div>
    </dialog>
  );
}

/** A modal form's foot: the error of its last submission, Cancel, and the submit button with its progress. */
export function FormFoot({
  error,
  onCancel,
  busy,
  busyLabel,
  disabled,
  children,
}: {
  error: ShardvaultError | string | null | undefined;
  onCancel: () => void;
  busy: boolean;
  busyLabel: string;
  disabled?: boolean;
  children: ReactNode;
}) {
  return (
    <>
      <ErrorNote error={error} />
      <div className="actions">
        <button type="button" className="btn btn-secondary" onClick={onCancel}>
          Cancel
        </button>
        <BusyButton type="submit" busy={busy} busyLabel={busyLabel} disabled={disabled}>
          {children}
        </BusyButton>
      </div>
    </>
  );
}

/** "Are you sure?" naming the thing; the action runs in the dialog, which shows its progress and error. */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  busyLabel,
  onConfirm,
  onClose,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  busyLabel: string;
  onConfirm: () => Promise<ShardvaultError | null>;
  onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShardvaultError | null>(null);
  const bodyId = useId();
  const run = async () => {
    setBusy(true);
    setError(null);
    const failed = await onConfirm();
    setBusy(false);
    if (failed) setError(failed);
    else onClose();
  };
  return (
    <Modal title={title} onClose={onClose} describedBy={bodyId}>
      <div id={bodyId}>{children}</div>
      <ErrorNote error={error} />
      <div className="actions">
        <button type="button" className="btn btn-secondary" onClick={onClose}>
          Cancel
        </button>
        <BusyButton type="button" className="btn btn-danger" busy={busy} busyLabel={busyLabel} onClick={() => void run()}>
          {confirmLabel}
        </BusyButton>
      </div>
    </Modal>
  );
}

async function writeClipboard(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission (e.g. an automated browser): the classic way.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.value = "";
    area.remove();
    return ok;
  }
}

export function CopyButton({ text, label = "Copy", what }: { text: string; label?: string; what: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const timer = window.setTimeout(() => setState("idle"), 2500);
    return () => window.clearTimeout(timer);
  }, [state]);
  return (
    <>
      <button type="button" className="btn btn-secondary btn-sm" onClick={() => void writeClipboard(text).then((ok) => setState(ok ? "copied" : "failed"))} aria-label={`${label} ${what}`}>
        <svg aria-hidden="true" viewBox="0 0 20 20" className="icon">
          <rect x="7" y="7" width="10" height="10" rx="2" fill="none" stroke="currentColor" strokeWidth="1.8" />
          <path d="M13 4.5V4a1 1 0 00-1-1H4a1 1 0 00-1 1v8a1 1 0 001 1h.5" fill="none" stroke="currentColor" strokeWidth="1.8" />
        </svg>
        {state === "copied" ? "Copied" : label}
      </button>
      <span className="visually-hidden" aria-live="polite">
        {state === "copied" ? `${what} copied to the clipboard` : state === "failed" ? `Could not copy the ${what}` : ""}
      </span>
    </>
  );
}

/** Saves `text` as a file through a same-origin blob URL (nothing leaves the browser). */
export function downloadText(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.className = "offscreen";
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function DownloadButton({ fileName, text, what }: { fileName: string; text: string; what: string }) {
  return (
    <button type="button" className="btn btn-secondary btn-sm" onClick={() => downloadText(fileName, text)} aria-label={`Download ${what}`}>
      <svg aria-hidden="true" viewBox="0 0 20 20" className="icon">
        <path d="M10 3v9M6 8.5l4 4 4-4M4 16h12" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
      </svg>
      Download
    </button>
  );
}
