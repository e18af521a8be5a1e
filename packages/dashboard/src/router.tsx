/** A small history-API router: the server answers index.html for every dashboard path. */
import { createContext, useCallback, useContext, useEffect, useState, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from "react";

const VAULT_TABS = ["secrets", "access", "settings"] as const;
export type VaultTab = (typeof VAULT_TABS)[number];
const isVaultTab = (part: string): part is VaultTab => (VAULT_TABS as readonly string[]).includes(part);

export type Route =
  | { page: "vaults" }
  | { page: "vault"; vaultId: string; tab: VaultTab }
  | { page: "agents" }
  | { page: "members" }
  | { page: "accept-invite" }
  | { page: "share"; shareId: string }
  | { page: "not-found"; path: string };

export function parseRoute(pathname: string): Route {
  const parts = pathname.replace(/\/+$/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "vaults")) return { page: "vaults" };
  if (parts[0] === "vaults" && parts[1] && parts.length === 2) return { page: "vault", vaultId: parts[1], tab: "secrets" };
  if (parts[0] === "vaults" && parts[1] && parts.length === 3 && isVaultTab(parts[2]!)) {
    return { page: "vault", vaultId: parts[1], tab: parts[2] };
  }
  if (parts.length === 1 && parts[0] === "agents") return { page: "agents" };
  if (parts.length === 1 && parts[0] === "members") return { page: "members" };
  if (parts.length === 1 && parts[0] === "accept-invite") return { page: "accept-invite" };
  if (parts.length === 2 && parts[0] === "share") return { page: "share", shareId: parts[1]! };
  return { page: "not-found", path: pathname };
}

export const paths = {
  vaults: () => "/vaults",
  vault: (id: string, tab: VaultTab = "secrets") => `/vaults/${encodeURIComponent(id)}${tab === "secrets" ? "" : `/${tab}`}`,
  agents: () => "/agents",
  members: () => "/members",
  acceptInvite: () => "/accept-invite",
  share: (id: string) => `/share/${encodeURIComponent(id)}`,
};

interface RouterValue {
  pathname: string;
  navigate: (to: string, options?: { replace?: boolean }) => void;
}

const RouterContext = createContext<RouterValue>({ pathname: "/", navigate: () => {} });

export function RouterProvider({ children }: { children: ReactNode }) {
  const [pathname, setPathname] = useState(() => window.location.pathname);
  useEffect(() => {
    const onPop = () => setPathname(window.location.pathname);
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const navigate = useCallback((to: string, options?: { replace?: boolean }) => {
    if (to === window.location.pathname) return;
    if (options?.replace) window.history.replaceState(null, "", to);
    else window.history.pushState(null, "", to);
    setPathname(window.location.pathname);
    window.scrollTo(0, 0);
  }, []);
  return <RouterContext.Provider value={{ pathname, navigate }}>{children}</RouterContext.Provider>;
}

export const useRouter = () => useContext(RouterContext);

/** An ordinary link (it works with a middle click) that navigates in place on a plain click. */
export function Link({ to, children, ...rest }: { to: string; children: ReactNode } & Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href">) {
  const { navigate } = useRouter();
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    rest.onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} {...rest} onClick={onClick}>
      {children}
    </a>
  );
}
