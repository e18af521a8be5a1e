/**
 * `/share/{id}`: a shared secret, opened by whoever holds the link, without signing in. The link key of a
 * client-custody share is read from the URL's fragment (`#k=…`), which browsers never send: it leaves the page
 * only as the `X-Share-Key` header of the one request that opens the share. Nothing is opened until asked for
 * (every open counts against the share's limit, and a link preview must not use it up); the passphrase is asked
 * for when the share has one; the value hides itself again. A tab signed in to the dashboard sends its token,
 * which opens shares made for that member.
 */
import { useEffect, useId, useMemo, useState, type FormEvent } from "react";
import { createClient, type SharedSecret, type ShardvaultError } from "@shardvault/sdk";
import { AUTO_HIDE_SECONDS, RevealedValue, useAutoHide } from "../components/RevealedValue";
import { BusyButton, ErrorNote } from "../components/ui";
import { paths } from "../router";
import { loadSession, origin } from "../session";

type Outcome =
  | { kind: "ready" }
  | { kind: "passphrase"; wrong: boolean }
  | { kind: "opened"; opens: string; more: boolean }
  | { kind: "gone" }
  | { kind: "problem"; title: string; text: string; error?: ShardvaultError };

/** What a refusal means to whoever holds the link. */
function outcomeOf(error: ShardvaultError, hasKey: boolean): Outcome {
  switch (error.code) {
    case "share_not_found":
      return { kind: "gone" };
    case "passphrase_required":
      return { kind: "passphrase", wrong: false };
    case "passphrase_invalid":
      return { kind: "passphrase", wrong: true };
    case "share_key_required":
      return { kind: "problem", title: "This link is incomplete", text: "Its key (the part after #) is missing. Ask the person who shared it for the whole link." };
    case "share_key_malformed":
    case "share_key_invalid":
      return {
        kind: "problem",
        title: "This link's key does not open the share",
        text: hasKey ? "The part after # was changed or cut short. Ask the person who shared it for the whole link." : "Ask the person who shared it for the whole link.",
      };
    case "unauthorized":
      return { kind: "problem", title: "This share is for a member", text: "Sign in to the dashboard in this tab with your own key, then open the link again." };
    default:
      return { kind: "problem", title: "The share could not be opened", text: "", error };
  }
}

export function SharePage({ shareId }: { shareId: string }) {
  // Read once: the fragment is the link's own and never goes to the server as part of a URL.
  const shareKey = useMemo(() => new URLSearchParams(window.location.hash.slice(1)).get("k") ?? undefined, []);
  const [outcome, setOutcome] = useState<Outcome>({ kind: "ready" });
  const [busy, setBusy] = useState(false);
  const { shown, show, hide, secondsLeft } = useAutoHide<SharedSecret>();
  const passphraseId = useId();
  const passphraseHint = useId();
  const valueId = useId();

  useEffect(() => {
    document.title = "Shared secret — Shardvault";
  }, []);

  const open = async (passphrase?: string) => {
    setBusy(true);
    hide();
    const session = loadSession();
    const client = createClient({
      baseUrl: origin(),
      ...(session ? { token: session.token } : {}),
      fetch: (url, init) => window.fetch(url, { ...init, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" }),
    });
    const answer = await client.sharing.access(shareId, { ...(shareKey ? { shareKey } : {}), ...(passphrase !== undefined ? { passphrase } : {}) });
    setBusy(false);
    if (answer.error) {
      setOutcome(outcomeOf(answer.error, shareKey !== undefined));
      return;
    }
    const { access_count: count, max_access_count: max } = answer.data;
    setOutcome({ kind: "opened", opens: max === null ? `opened ${count} time${count === 1 ? "" : "s"}` : `opened ${count} of ${max} times`, more: max === null || count < max });
    show(answer.data);
  };

  const submitPassphrase = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const field = event.currentTarget.elements.namedItem("passphrase") as HTMLInputElement;
    const passphrase = field.value;
    // Sent with this one request, then cleared.
    field.value = "";
    void open(passphrase);
  };

  return (
    <div className="signin share-page">
      <div className="signin-brand">
        <img src="/favicon.svg" alt="" width="44" height="44" />
        <div>
          <h1>Shared secret</h1>
          <p className="muted">Shardvault</p>
        </div>
      </div>
      <section className="card signin-card" aria-labelledby="share-title" aria-busy={busy || undefined}>
        {outcome.kind === "gone" ? (
          <>
            <h2 id="share-title">This share is no longer available</h2>
            <p>It has expired, been opened as many times as it allows, or been revoked by the person who shared it — or the link is wrong.</p>
            <p className="muted small">Ask them to share the secret again.</p>
          </>
        ) : outcome.kind === "problem" ? (
          <>
            <h2 id="share-title">{outcome.title}</h2>
            {outcome.text ? <p>{outcome.text}</p> : null}
            <ErrorNote error={outcome.error} />
            {outcome.title === "This share is for a member" ? (
              <p>
                <a href={paths.vaults()}>Sign in to Shardvault</a>
              </p>
            ) : null}
          </>
        ) : (
          <>
            <h2 id="share-title">Someone shared a secret with you</h2>
            {outcome.kind === "passphrase" ? (
              <form className="share-passphrase" onSubmit={submitPassphrase} autoComplete="off">
                <div className="field">
                  <label htmlFor={passphraseId}>Passphrase</label>
                  <input
                    id={passphraseId}
                    name="passphrase"
                    type="password"
                    required
                    autoFocus
                    autoComplete="off"
                    spellCheck={false}
                    aria-describedby={passphraseHint}
                    aria-invalid={outcome.wrong || undefined}
                  />
                  <p className="hint" id={passphraseHint}>
                    This share is protected by a passphrase; the person who shared it can tell you what it is.
                  </p>
                </div>
                <ErrorNote error={outcome.wrong ? "That passphrase is not this share's. Try again." : null} />
                <BusyButton type="submit" className="btn btn-block" busy={busy} busyLabel="Opening…">
                  Open with passphrase
                </BusyButton>
              </form>
            ) : outcome.kind === "opened" && shown ? (
              <RevealedValue value={shown.value} id={valueId} secondsLeft={secondsLeft} onHide={hide} heading={<span className="mono break">{shown.path}</span>} />
            ) : outcome.kind === "opened" ? (
              <>
                <p className="masked">
                  <span aria-hidden="true">••••••••••••••••</span>
                  <span className="small muted">Hidden. The value is no longer on this page.</span>
                </p>
                {outcome.more ? (
                  <BusyButton type="button" className="btn btn-secondary" busy={busy} busyLabel="Opening…" onClick={() => void open()}>
                    Reveal again (counts as another opening)
                  </BusyButton>
                ) : null}
              </>
            ) : (
              <>
                <p>
                  Revealing it counts as one opening; a share may allow only a few, and it expires. The value is shown on this page only and hides
                  itself after {AUTO_HIDE_SECONDS} seconds; nothing is kept in this browser.
                </p>
                <BusyButton type="button" className="btn btn-block" busy={busy} busyLabel="Opening…" onClick={() => void open()}>
                  Reveal secret
                </BusyButton>
              </>
            )}
            {outcome.kind === "opened" ? <p className="small muted">This share has been {outcome.opens}.</p> : null}
          </>
        )}
      </section>
    </div>
  );
}
