/** Tables for people, JSON for scripts. */
import { PROVIDER_QUORUM_MODES, type Vault } from "@shardvault/sdk";

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

export type Column<T> = [header: string, cell: (row: T) => unknown];

const text = (value: unknown): string => (value === undefined || value === null || value === "" ? "-" : Array.isArray(value) ? value.join(",") || "-" : String(value));

export function printTable<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>): void {
  const cells = rows.map((row) => columns.map(([, cell]) => text(cell(row)).replace(/\s+/g, " ")));
  const widths = columns.map(([header], i) => Math.max(header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join("  ");
  process.stdout.write(line(columns.map(([header]) => header)) + "\n");
  for (const row of cells) process.stdout.write(line(row) + "\n");
}

/** One record as `KEY  value` lines. */
export function printRecord(pairs: ReadonlyArray<[string, unknown]>): void {
  const width = Math.max(...pairs.map(([key]) => key.length));
  for (const [key, value] of pairs) process.stdout.write(`${key.padEnd(width)}  ${text(value)}\n`);
}

export function warn(message: string): void {
  process.stderr.write(message.endsWith("\n") ? message : message + "\n");
}

/** A vault's custody as its view shows it: its mode and its share holders (the client last). */
export type CustodyFacts = Pick<Vault, "mpc_custody" | "mpc_providers">;

const andList = (items: readonly string[]) => (items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`);

/**
 * What losing a client share means, from the vault's custody: when its provider slots alone can rebuild the
 * secret (`PROVIDER_QUORUM_MODES`), "nobody can decrypt it" would overstate the share. Without the vault's facts, only what holds in
 * every mode.
 */
export function clientShareLoss(vault: CustodyFacts | undefined): string[] {
  const holders = vault?.mpc_providers;
  const slots = holders?.filter((holder) => holder !== "client");
  if (!vault?.mpc_custody || !holders || !slots) return ["If it is lost, Shardvault will not decrypt the secret and cannot recover it."];
  if (!(PROVIDER_QUORUM_MODES as readonly string[]).includes(vault.mpc_custody)) return ["If it is lost, the secret cannot be decrypted by anyone."];
  return [
    "If it is lost, Shardvault will not decrypt the secret and cannot recover it. But it is not the only",
    `way in: in ${vault.mpc_custody} the key providers ${andList(slots)} together hold ${slots.length} of the ${holders.length} shares,`,
    "so whoever controls those providers could rebuild the secret without it.",
  ];
}

/** The loud notice for client shares, on standard error so it is seen even when standard output is captured. */
export function clientShareNotice(count: number, file: string | undefined, vault: CustodyFacts | undefined): void {
  const what = count === 1 ? "a client share" : `${count} client shares`;
  const bar = "=".repeat(78);
  warn(
    [
      bar,
      `IMPORTANT: this vault uses client custody and you were given ${what}.`,
      "It is shown ONCE and is NOT stored by the server: every read of the secret needs it.",
      ...clientShareLoss(vault),
      "Store it securely now (password manager, hardware key, or a secret store of your deployment).",
      file ? `Written to ${file} (mode 0600).` : "Use --client-share-out FILE to write it to a file (mode 0600).",
      bar,
    ].join("\n"),
  );
}
