/** Who is making a request, as established by authentication. */
export interface Principal {
  type: "user" | "agent";
  id: string;
  orgId: string;
  /** For agents: the vaults they may use, read from the database on each request; empty = every vault. */
  vaultIds?: readonly string[];
  /** The client's address, for the audit log. */
  ip?: string;
}
