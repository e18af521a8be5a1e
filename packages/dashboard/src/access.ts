/**
 * What the signed-in member may manage, as the dashboard offers it (api-contract.md, "Organization members" and
 * "Policies"): owners and admins manage members, agents and every vault; a vault's creator manages that vault.
 * The server checks every request itself; this only decides which controls to show.
 */
import type { Member, Vault } from "@shardvault/sdk";

export const managesOrg = (me: Member | null): boolean => me?.role === "owner" || me?.role === "admin";

/** Unknown (`me` not loaded yet) counts as no. */
export const managesVault = (me: Member | null, vault: Pick<Vault, "created_by" | "created_by_type">): boolean =>
  managesOrg(me) || (me !== null && vault.created_by_type === "user" && vault.created_by === me.id);
