/**
 * Which of the vault's existing secret paths a policy pattern covers, as the server will decide it: the same
 * matcher and pattern check (`@shardvault/api`), so the preview cannot drift from enforcement.
 */
import { useMemo } from "react";
import { matchesPattern, patternProblem } from "@shardvault/api";

/** Enough to recognise what a pattern covers without drowning the form. */
const SHOWN = 30;

export function PatternPreview({ pattern, paths, id }: { pattern: string; paths: readonly string[]; id: string }) {
  const problem = pattern === "" ? undefined : patternProblem(pattern);
  const matches = useMemo(() => (pattern === "" || problem ? [] : paths.filter((path) => matchesPattern(pattern, path))), [pattern, problem, paths]);

  let summary: string;
  if (pattern === "") summary = "Type a pattern to see which existing secrets it covers.";
  else if (problem) summary = `This pattern would be refused: ${problem}.`;
  else if (paths.length === 0) summary = "The vault has no secrets yet; the policy will cover matching paths as they are written.";
  else summary = `Matches ${matches.length} of ${paths.length} existing ${paths.length === 1 ? "secret" : "secrets"}, and any matching path written later.`;

  return (
    <div className={problem ? "preview preview-bad" : "preview"} id={id}>
      <p className="preview-summary" aria-live="polite">
        {summary}
      </p>
      {matches.length > 0 ? (
        <ul className="preview-list" aria-label="Existing secrets the pattern matches">
          {matches.slice(0, SHOWN).map((path) => (
            <li key={path}>
              <code>{path}</code>
            </li>
          ))}
          {matches.length > SHOWN ? <li className="muted small">and {matches.length - SHOWN} more</li> : null}
        </ul>
      ) : null}
    </div>
  );
}
