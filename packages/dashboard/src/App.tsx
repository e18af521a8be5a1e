/** The shell: sign-in, the session's client, the header and the routed page. */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ClientContext } from "./api";
import { AgentsPage } from "./pages/AgentsPage";
import { SignIn } from "./pages/SignIn";
import { VaultPage } from "./pages/VaultPage";
import { VaultsPage } from "./pages/VaultsPage";
import { Link, parseRoute, paths, RouterProvider, useRouter } from "./router";
import { clearSession, clientFor, loadSession, saveSession, type Session } from "./session";

export function App() {
  return (
    <RouterProvider>
      <Shell />
    </RouterProvider>
  );
}

function Shell() {
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const [notice, setNotice] = useState<string | undefined>();
  const { pathname, navigate } = useRouter();

  const expire = useCallback(() => {
    clearSession();
    setSession(undefined);
    setNotice("Your session has expired. Sign in again with your API key.");
  }, []);

  // Re-ask for the key when the token runs out (the key itself was never kept, so it cannot be refreshed).
  useEffect(() => {
    if (!session) return;
    const timer = window.setTimeout(expire, Math.max(0, session.expiresAt - Date.now()));
    return () => window.clearTimeout(timer);
  }, [session, expire]);

  const expireRef = useRef(expire);
  expireRef.current = expire;
  const client = useMemo(() => (session ? clientFor(session, () => expireRef.current()) : null), [session]);

  const signedIn = (next: Session) => {
    saveSession(next);
    setNotice(undefined);
    setSession(next);
    if (pathname === "/") navigate(paths.vaults(), { replace: true });
  };

  const signOut = () => {
    clearSession();
    setSession(undefined);
    setNotice("You have signed out.");
    navigate("/", { replace: true });
  };

  if (!session || !client) {
    return (
      <>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <main id="main" className="signin-page">
          <SignIn onSignedIn={signedIn} notice={notice} />
        </main>
      </>
    );
  }

  return (
    // A new key per session: nothing of a previous session's page state survives a sign-in.
    <ClientContext.Provider value={client} key={session.token}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header onSignOut={signOut} />
      <main id="main" className="page">
        <RoutedPage />
      </main>
    </ClientContext.Provider>
  );
}

function Header({ onSignOut }: { onSignOut: () => void }) {
  const { pathname } = useRouter();
  const route = parseRoute(pathname);
  const section = route.page === "agents" ? "agents" : route.page === "vaults" || route.page === "vault" ? "vaults" : undefined;
  return (
    <header className="topbar">
      <div className="topbar-inner">
        <Link to={paths.vaults()} className="brand">
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <span>Shardvault</span>
        </Link>
        <nav aria-label="Main">
          <ul className="nav">
            <li>
              <Link to={paths.vaults()} aria-current={section === "vaults" ? "page" : undefined}>
                Vaults
              </Link>
            </li>
            <li>
              <Link to={paths.agents()} aria-current={section === "agents" ? "page" : undefined}>
                Agents
              </Link>
            </li>
          </ul>
        </nav>
        <button type="button" className="btn btn-secondary btn-sm signout" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}

function RoutedPage() {
  const { pathname } = useRouter();
  const route = parseRoute(pathname);
  switch (route.page) {
    case "vaults":
      return <VaultsPage />;
    case "vault":
      return <VaultPage key={route.vaultId} vaultId={route.vaultId} tab={route.tab} />;
    case "agents":
      return <AgentsPage />;
    default:
      return <NotFound />;
  }
}

function NotFound() {
  useEffect(() => {
    document.title = "Not found — Shardvault";
  }, []);
  return (
    <section className="page-section">
      <h1>Page not found</h1>
      <p>
        There is nothing here. <Link to={paths.vaults()}>Go to your vaults</Link>.
      </p>
    </section>
  );
}
