/** The Secrets tab's tree: secrets as folders by path segment, each folder collapsible and usable as a filter. */
import { useMemo, useState } from "react";
import type { SecretMeta } from "@shardvault/sdk";

interface Folder {
  name: string;
  path: string;
  folders: Map<string, Folder>;
  secrets: SecretMeta[];
}

function buildTree(secrets: SecretMeta[]): Folder {
  const root: Folder = { name: "", path: "", folders: new Map(), secrets: [] };
  for (const secret of secrets) {
    const segments = secret.path.split("/");
    let folder = root;
    for (const segment of segments.slice(0, -1)) {
      let next = folder.folders.get(segment);
      if (!next) {
        next = { name: segment, path: folder.path ? `${folder.path}/${segment}` : segment, folders: new Map(), secrets: [] };
        folder.folders.set(segment, next);
      }
      folder = next;
    }
    folder.secrets.push(secret);
  }
  return root;
}

const countSecrets = (folder: Folder): number => folder.secrets.length + [...folder.folders.values()].reduce((n, f) => n + countSecrets(f), 0);

export function SecretTree({ secrets, selected, onSelect, onFilter }: { secrets: SecretMeta[]; selected: string | null; onSelect: (path: string) => void; onFilter: (prefix: string) => void }) {
  const tree = useMemo(() => buildTree(secrets), [secrets]);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const toggle = (path: string) =>
    setCollapsed((set) => {
      const next = new Set(set);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });

  const renderFolder = (folder: Folder, depth: number) => (
    <ul className={depth === 0 ? "tree" : "tree-group"} aria-label={depth === 0 ? "Secrets by path" : undefined}>
      {[...folder.folders.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((child) => {
          const open = !collapsed.has(child.path);
          return (
            <li key={`d:${child.path}`}>
              <div className="tree-row">
                <button type="button" className="tree-folder" aria-expanded={open} onClick={() => toggle(child.path)}>
                  <svg aria-hidden="true" viewBox="0 0 20 20" className={open ? "icon chevron open" : "icon chevron"}>
                    <path d="M7 5l5 5-5 5" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
                  </svg>
                  <svg aria-hidden="true" viewBox="0 0 20 20" className="icon folder-icon">
                    <path d="M2.5 5.5a1 1 0 011-1h4l2 2h7a1 1 0 011 1v8a1 1 0 01-1 1h-13a1 1 0 01-1-1z" fill="currentColor" />
                  </svg>
                  <span className="tree-name">{child.name}/</span>
                  <span className="tree-count">
                    {countSecrets(child)}
                    <span className="visually-hidden"> {countSecrets(child) === 1 ? "secret" : "secrets"}</span>
                  </span>
                </button>
                <button type="button" className="tree-filter" onClick={() => onFilter(`${child.path}/`)} aria-label={`Show only ${child.path}/`} title={`Show only ${child.path}/`}>
                  <svg aria-hidden="true" viewBox="0 0 20 20" className="icon">
                    <path d="M3 4h14l-5.5 6.5V16l-3 1.5v-7z" fill="none" stroke="currentColor" strokeWidth="1.7" strokeLinejoin="round" />
                  </svg>
                </button>
              </div>
              {open ? renderFolder(child, depth + 1) : null}
            </li>
          );
        })}
      {folder.secrets.map((secret) => {
        const name = secret.path.split("/").pop()!;
        return (
          <li key={`s:${secret.path}`}>
            <button type="button" className="tree-leaf" aria-current={selected === secret.path ? "true" : undefined} onClick={() => onSelect(secret.path)} aria-label={`${secret.path}, version ${secret.version}, ${secret.type}`}>
              <svg aria-hidden="true" viewBox="0 0 20 20" className="icon key-icon">
                <circle cx="7" cy="10" r="3.2" fill="none" stroke="currentColor" strokeWidth="1.8" />
                <path d="M10.2 10H17M14.5 10v2.5M16.8 10v2" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
              </svg>
              <span className="tree-name">{name}</span>
              <span className="tree-version">v{secret.version}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );

  return <nav aria-label="Secret tree">{renderFolder(tree, 0)}</nav>;
}
