/** Who is making a request, as established by authentication. */
export interface Principal {
  type: "user" | "agent";
  id: string;
  orgId: string;
}
