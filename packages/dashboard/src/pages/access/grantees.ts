/** Who a policy can name: the organization's agents and members, labelled for people. */
import type { Agent, Member, Policy } from "@shardvault/sdk";

export interface Grantee {
  type: "user" | "agent";
  id: string;
  label: string;
}

export const granteeKey = (g: { type: "user" | "agent"; id: string }) => `${g.type}:${g.id}`;

export function grantees(agents: readonly Agent[], members: readonly Member[]): Grantee[] {
  return [
    ...agents.map((a) => ({ type: "agent" as const, id: a.id, label: a.is_active ? a.name : `${a.name} (inactive)` })),
    ...members.map((m) => {
      const name = m.email ? `${m.display_name} <${m.email}>` : m.display_name;
      return { type: "user" as const, id: m.id, label: m.role === "member" ? name : `${name} (${m.role})` };
    }),
  ];
}

/** A policy's principal as a person reads it; one the page cannot name (e.g. agents it may not list) by its id. */
export function granteeLabel(known: readonly Grantee[], policy: Pick<Policy, "principal_type" | "principal_id">): string {
  const found = known.find((g) => g.type === policy.principal_type && g.id === policy.principal_id);
  return found ? found.label : `${policy.principal_type === "agent" ? "agent" : "member"} ${policy.principal_id.slice(0, 8)}…`;
}
