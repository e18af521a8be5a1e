/** An exclusive lock on a data folder: a file holding the owner's pid, taken over only when that pid is gone. */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

export class FolderLockedError extends Error {
  constructor(folder: string, pid: number) {
    super(`data folder ${folder} is in use by another Shardvault process (pid ${pid})`);
    this.name = "FolderLockedError";
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function acquireFolderLock(folder: string): { release(): void } {
  const path = join(folder, "shardvault.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return {
        release() {
          try {
            unlinkSync(path);
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number.parseInt(readFileSync(path, "utf8"), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) throw new FolderLockedError(folder, owner);
      // The owner died without releasing (e.g. kill -9): the lock is stale.
      unlinkSync(path);
    }
  }
  throw new Error(`could not lock data folder ${folder}`);
}
