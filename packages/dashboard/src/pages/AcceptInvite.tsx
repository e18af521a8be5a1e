/**
 * Accepting an invitation (`POST /v1/auth/accept-invite`): the invite token, a password of at least
 * PASSWORD_MIN_LENGTH characters (typed twice) and an optional display name; the new member is signed in.
 * An invite link carries the token in its fragment (`/accept-invite#token=svi_…`), which browsers never send to a
 * server; the page takes it into the form and drops it from the address bar and history at once.
 */
import { useEffect, useId, useState, type FormEvent } from "react";
import { PASSWORD_MIN_LENGTH } from "@shardvault/api";
import { BusyButton, ErrorNote } from "../components/ui";
import { Link, paths } from "../router";
import { acceptInvitation, type Session } from "../session";

const tokenInFragment = () => new URLSearchParams(window.location.hash.slice(1)).get("token") ?? "";

export function AcceptInvite({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [linkToken] = useState(tokenInFragment);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const ids = { token: useId(), name: useId(), password: useId(), passwordHint: useId(), confirm: useId(), error: useId() };

  useEffect(() => {
    document.title = "Accept an invitation — Shardvault";
    // The token is in the form now: the address bar and history keep no trace of it.
    if (window.location.hash) window.history.replaceState(null, "", window.location.pathname);
  }, []);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
    const password = field("password").value;
    if (password !== field("confirm").value) {
      setError("The two passwords differ.");
      field("confirm").focus();
      return;
    }
    if (password.length < PASSWORD_MIN_LENGTH) {
      setError(`Choose a password of at least ${PASSWORD_MIN_LENGTH} characters.`);
      field("password").focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    const result = await acceptInvitation(field("invite_token").value, password, field("display_name").value);
    field("password").value = "";
    field("confirm").value = "";
    setBusy(false);
    if (result.error !== undefined) return setError(result.error);
    onSignedIn(result.session);
  };

  return (
    <div className="signin">
      <div className="signin-brand">
        <img src="/favicon.svg" alt="" width="44" height="44" />
        <div>
          <h1>Shardvault</h1>
          <p className="muted">Join your organization</p>
        </div>
      </div>
      <form className="card signin-card" method="post" action="/" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="accept-title" aria-busy={busy || undefined}>
        <h2 id="accept-title">Accept your invitation</h2>
        <div className="field">
          <label htmlFor={ids.token}>Invite token</label>
          <input id={ids.token} name="invite_token" required defaultValue={linkToken} autoComplete="off" spellCheck={false} autoCapitalize="off" className="mono" placeholder="svi_…" />
        </div>
        <div className="field">
          <label htmlFor={ids.name}>
            Display name <span className="muted">(optional)</span>
          </label>
          <input id={ids.name} name="display_name" maxLength={200} autoComplete="name" />
        </div>
        <div className="field">
          <label htmlFor={ids.password}>Password</label>
          <input
            id={ids.password}
            name="password"
            type="password"
            required
            minLength={PASSWORD_MIN_LENGTH}
            autoComplete="new-password"
            aria-describedby={error ? `${ids.passwordHint} ${ids.error}` : ids.passwordHint}
            aria-invalid={error ? true : undefined}
          />
          <p className="hint" id={ids.passwordHint}>
            At least {PASSWORD_MIN_LENGTH} characters. You sign in with the invited email and this password.
          </p>
        </div>
        <div className="field">
          <label htmlFor={ids.confirm}>Password again</label>
          <input id={ids.confirm} name="confirm" type="password" required autoComplete="new-password" />
        </div>
        <ErrorNote error={error} id={ids.error} />
        <BusyButton type="submit" className="btn btn-block" busy={busy} busyLabel="Joining…">
          Accept and sign in
        </BusyButton>
      </form>
      <p className="signin-foot">
        Already a member? <Link to={paths.vaults()}>Sign in</Link>
      </p>
    </div>
  );
}
