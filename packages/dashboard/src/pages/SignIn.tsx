/**
 * Sign-in: a member's email and password (`POST /v1/auth/token`), or a user API key
 * (`POST /v1/auth/api-key-token`, e.g. the first-start owner's). The secret is read from its field when the form
 * is submitted, sent in the request body, and the field is cleared: it is never stored, and never part of a URL
 * (the forms post, and their submission is handled in the page).
 */
import { useEffect, useId, useState, type FormEvent } from "react";
import { BusyButton, ErrorNote } from "../components/ui";
import { Link, paths } from "../router";
import { exchangeApiKey, signInWithPassword, type Session, type SignInResult } from "../session";

type OnSignedIn = (session: Session) => void;

/** Runs one exchange for a form: progress, the secret field cleared, the API's detail on failure. */
function useExchange(onSignedIn: OnSignedIn) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const run = async (secretField: HTMLInputElement, exchange: (secret: string) => Promise<SignInResult>) => {
    const secret = secretField.value;
    secretField.value = "";
    setBusy(true);
    setError(undefined);
    const result = await exchange(secret);
    setBusy(false);
    if (result.error !== undefined) {
      setError(result.error);
      secretField.focus();
      return;
    }
    onSignedIn(result.session);
  };
  return { busy, error, run };
}

export function SignIn({ onSignedIn, notice }: { onSignedIn: OnSignedIn; notice: string | undefined }) {
  useEffect(() => {
    document.title = "Sign in — Shardvault";
  }, []);

  return (
    <div className="signin">
      <div className="signin-brand">
        <img src="/favicon.svg" alt="" width="44" height="44" />
        <div>
          <h1>Shardvault</h1>
          <p className="muted">Secrets vault with MPC secret storage</p>
        </div>
      </div>
      <PasswordSignIn onSignedIn={onSignedIn} notice={notice} />
      <ApiKeySignIn onSignedIn={onSignedIn} />
      <p className="signin-foot">
        Invited to an organization? <Link to={paths.acceptInvite()}>Accept your invitation</Link>
      </p>
    </div>
  );
}

function PasswordSignIn({ onSignedIn, notice }: { onSignedIn: OnSignedIn; notice: string | undefined }) {
  const { busy, error, run } = useExchange(onSignedIn);
  const ids = { email: useId(), password: useId(), error: useId() };

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const email = (form.elements.namedItem("email") as HTMLInputElement).value;
    void run(form.elements.namedItem("password") as HTMLInputElement, (password) => signInWithPassword(email, password));
  };

  return (
    <form className="card signin-card" method="post" action="/" onSubmit={submit} aria-labelledby="signin-title" aria-busy={busy || undefined}>
      <h2 id="signin-title">Sign in</h2>
      {notice ? (
        <p className="callout callout-info" role="status">
          {notice}
        </p>
      ) : null}
      <div className="field">
        <label htmlFor={ids.email}>Email</label>
        <input id={ids.email} name="email" type="email" required autoComplete="username" spellCheck={false} autoCapitalize="off" />
      </div>
      <div className="field">
        <label htmlFor={ids.password}>Password</label>
        <input
          id={ids.password}
          name="password"
          type="password"
          required
          autoComplete="current-password"
          aria-describedby={error ? ids.error : undefined}
          aria-invalid={error ? true : undefined}
        />
      </div>
      <ErrorNote error={error} id={ids.error} />
      <BusyButton type="submit" className="btn btn-block" busy={busy} busyLabel="Signing in…">
        Sign in
      </BusyButton>
    </form>
  );
}

function ApiKeySignIn({ onSignedIn }: { onSignedIn: OnSignedIn }) {
  const { busy, error, run } = useExchange(onSignedIn);
  const ids = { key: useId(), hint: useId(), error: useId() };

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    void run(event.currentTarget.elements.namedItem("api_key") as HTMLInputElement, exchangeApiKey);
  };

  return (
    <form className="card signin-card" method="post" action="/" onSubmit={submit} autoComplete="off" aria-labelledby="apikey-title" aria-busy={busy || undefined}>
      <h2 id="apikey-title">Or use an API key</h2>
      <div className="field">
        <label htmlFor={ids.key}>User API key</label>
        <input
          id={ids.key}
          name="api_key"
          type="password"
          required
          autoComplete="off"
          spellCheck={false}
          autoCapitalize="off"
          placeholder="1ck_…"
          aria-describedby={error ? `${ids.hint} ${ids.error}` : ids.hint}
          aria-invalid={error ? true : undefined}
        />
        <p className="hint" id={ids.hint}>
          Exchanged for a short-lived session token; the key itself is not stored in this browser.
        </p>
      </div>
      <ErrorNote error={error} id={ids.error} />
      <BusyButton type="submit" className="btn btn-secondary btn-block" busy={busy} busyLabel="Signing in…">
        Sign in with API key
      </BusyButton>
    </form>
  );
}
