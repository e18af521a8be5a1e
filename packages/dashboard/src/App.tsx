/** The shell: sign-in (or accepting an invitation), the session's client and member, the header and the routed page. */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { Member } from "@shardvault/sdk";
import { managesOrg } from "./access";
import { ClientContext, MeContext, useClient, useMe } from "./api";
import { AcceptInvite } from "./pages/AcceptInvite";
import { AgentsPage } from "./pages/AgentsPage";
import { MembersPage } from "./pages/MembersPage";
import { SharePage } from "./pages/SharePage";
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
    setNotice("Your session has expired. Sign in again.");
  }, []);

  // Ask again when the token runs out (the password or key was never kept, so it cannot be refreshed).
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
    if (pathname === "/" || parseRoute(pathname).page === "accept-invite") navigate(paths.vaults(), { replace: true });
  };

  const signOut = () => {
    clearSession();
    setSession(undefined);
    setNotice("You have signed out.");
    navigate("/", { replace: true });
  };

  // Public pages, signed in or not: accepting an invitation (which signs in as the new member), and a shared
  // secret's page, for whoever holds its link.
  const route = parseRoute(pathname);
  if (route.page === "accept-invite") return (
      <PublicPage>
        <AcceptInvite onSignedIn={signedIn} />
      </PublicPage>
    );
  if (route.page === "share") return (
      <PublicPage>
        <SharePage shareId={route.shareId} />
      </PublicPage>
    );
  if (!session || !client) return (
      <PublicPage>
        <SignIn onSignedIn={signedIn} notice={notice} />
      </PublicPage>
    );

  return (
    // A new key per session: nothing of a previous session's page state survives a sign-in.
    <ClientContext.Provider value={client} key={session.token}>
      <MeProvider>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <Header onSignOut={signOut} />
        <main id="main" className="page">
          <RoutedPage />
        </main>
      </MeProvider>
    </ClientContext.Provider>
  );
}

function PublicPage({ children }: { children: ReactNode }) {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <main id="main" className="signin-page">
        {children}
      </main>
    </>
  );
}

/** Who is signed in, asked again on every page change, so a new role shows as soon as the server applies it. */
function MeProvider({ children }: { children: ReactNode }) {
  const client = useClient();
  const { pathname } = useRouter();
  const [me, setMe] = useState<Member | null>(null);
  useEffect(() => {
    let current = true;
    void client.auth.getMe().then(({ data }) => {
      if (current && data) setMe(data);
    });
    return () => {
      current = false;
    };
  }, [client, pathname]);
  return <MeContext.Provider value={me}>{children}</MeContext.Provider>;
}

function Header({ onSignOut }: { onSignOut: () => void }) {
  const { pathname } = useRouter();
  const me = useMe();
  const route = parseRoute(pathname);
  const section = route.page === "vault" ? "vaults" : route.page;
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
            {managesOrg(me) ? (
              <li>
                <Link to={paths.agents()} aria-current={section === "agents" ? "page" : undefined}>
                  Agents
                </Link>
              </li>
            ) : null}
            <li>
              <Link to={paths.members()} aria-current={section === "members" ? "page" : undefined}>
                Members
              </Link>
            </li>
          </ul>
        </nav>
        {me ? (
          <p className="whoami">
            <span className="whoami-name">{me.display_name}</span> <span className="whoami-role">{me.role}</span>
          </p>
        ) : null}
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
    case "members":
      return <MembersPage />;
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
