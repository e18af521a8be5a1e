/** A revealed secret value that hides itself again: the countdown, the value, copy and hide. */
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { CopyButton } from "./ui";

export const AUTO_HIDE_SECONDS = 30;

/** Holds a revealed item until `hide`, or until `seconds` have passed; `secondsLeft` counts down. */
export function useAutoHide<T>(seconds = AUTO_HIDE_SECONDS) {
  const [shown, setShown] = useState<{ item: T; hidesAt: number } | null>(null);
  const [now, setNow] = useState(Date.now());
  const hide = useCallback(() => setShown(null), []);
  const show = useCallback(
    (item: T) => {
      setNow(Date.now());
      setShown({ item, hidesAt: Date.now() + seconds * 1000 });
    },
    [seconds],
  );
  useEffect(() => {
    if (!shown) return;
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    const timer = window.setTimeout(hide, Math.max(0, shown.hidesAt - Date.now()));
    return () => {
      window.clearInterval(tick);
      window.clearTimeout(timer);
    };
  }, [shown, hide]);
  const secondsLeft = shown ? Math.max(0, Math.ceil((shown.hidesAt - now) / 1000)) : 0;
  return { shown: shown?.item ?? null, show, hide, secondsLeft };
}

export function RevealedValue({ value, heading, secondsLeft, onHide, id }: { value: string; heading: ReactNode; secondsLeft: number; onHide: () => void; id?: string }) {
  return (
    <div className="revealed">
      <div className="revealed-head">
        <span className="small">{heading}</span>
        <span className="small muted">Hides in {secondsLeft} s</span>
      </div>
      <pre className="code-block secret-value" id={id}>
        {value}
      </pre>
      <div className="actions actions-left">
        <CopyButton text={value} what="value" />
        <button type="button" className="btn btn-secondary btn-sm" onClick={onHide}>
          Hide
        </button>
      </div>
    </div>
  );
}
