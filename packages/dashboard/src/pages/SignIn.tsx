/**
 * Sign-in with a user API key. The key is read from the field when the form is submitted, sent in the body of
 * `POST /v1/auth/api-key-token`, and the field is cleared: it is never stored, and never part of a URL (the
 * form posts, and its submission is handled in the page).
 */
import { useEffect, useId, useState, type FormEvent } from "react";
import { BusyButton, ErrorNote } from "../components/ui";
import { exchangeApiKey, type Session } from "../session";

export function SignIn({ onSignedIn, notice }: { onSignedIn: (session: Session) => void; notice: string | undefined }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const keyId = useId();
  const hintId = useId();
  const errorId = useId();

  useEffect(() => {
    document.title = "Sign in — Shardvault";
  }, []);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const field = form.elements.namedItem("api_key") as HTMLInputElement;
    const key = field.value;
    field.value = "";
    setBusy(true);
    setError(undefined);
    const result = await exchangeApiKey(key);
    setBusy(false);
    if (result.error !== undefined) {
      setError(result.error);
      field.focus();
      return;
    }
    onSignedIn(result.session);
  };

  return (
    <div className="signin">
      <div className="signin-brand">
        <img src="/favicon.svg" alt="" width="44" height="44" />
        <div>
          <h1>Shardvault</h1>
          <p className="muted">Secrets vault with MPC secret storage</p>
        </div>
      </div>
      <form className="card signin-card" method="post" action="/" onSubmit={(e) => void submit(e)} autoComplete="off" aria-busy={busy || undefined}>
        <h2>Sign in</h2>
        {notice ? (
          <p className="callout callout-info" role="status">
            {notice}
          </p>
        ) : null}
        <div className="field">
          <label htmlFor={keyId}>User API key</label>
          <input
            id={keyId}
            name="api_key"
            type="password"
            required
            autoComplete="off"
            spellCheck={false}
            autoCapitalize="off"
            placeholder="1ck_…"
            aria-describedby={error ? `${hintId} ${errorId}` : hintId}
            aria-invalid={error ? true : undefined}
          />
          <p className="hint" id={hintId}>
            Exchanged for a short-lived session token; the key itself is not stored in this browser.
          </p>
        </div>
        <ErrorNote error={error} id={errorId} />
        <BusyButton type="submit" className="btn btn-block" busy={busy} busyLabel="Signing in…">
          Sign in
        </BusyButton>
      </form>
    </div>
  );
}
