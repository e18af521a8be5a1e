/**
 * The one database interface the domain code sees, implemented over embedded PGlite and over PostgreSQL.
 * Both run the same SQL and the same migrations.
 */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface AdvisoryLock {
  release(): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: "pglite" | "postgres";
  /** Human description for start-up output; never contains a password. */
  readonly description: string;
  /** Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` on every NOTIFY on `channel`, from this instance or another. On PostgreSQL a dedicated
   * connection listens; when it was lost, `onNotify` is also called once it is back (notifications may have
   * been missed meanwhile). Ends with `close()`.
   */
  listen(channel: string, onNotify: () => void): Promise<void>;
  /** Runs `fn` while holding a cluster-wide advisory lock, so several instances can start at once. */
  withAdvisoryLock<T>(lockId: number, fn: () => Promise<T>): Promise<T>;
  /**
   * Takes a cluster-wide advisory lock if no one holds it, until `release`, or until this process dies:
   * PostgreSQL drops a dead session's locks, so a held lock means a live holder. Undefined when held.
   */
  tryAdvisoryLock(key: bigint): Promise<AdvisoryLock | undefined>;
  close(): Promise<void>;
}
