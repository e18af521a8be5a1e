/** A reader for NIST CAVP `.rsp` files: `[Name = value]` section headers, then `Name = value` entries. */
export interface RspEntry {
  /** The bracketed header values in force, e.g. { Keylen: "256", IVlen: "96", Taglen: "128" }. */
  section: Record<string, string>;
  /** The entry's fields, e.g. Count, Key, IV, PT, AAD, CT, Tag (hex, possibly empty). */
  fields: Record<string, string>;
  /** True when the entry is marked FAIL (decrypt files: the tag must not verify). */
  fail: boolean;
}

export function parseRsp(text: string): RspEntry[] {
  const entries: RspEntry[] = [];
  let section: Record<string, string> = {};
  let current: RspEntry | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[(\w+) = (\w*)\]$/.exec(line);
    if (header) {
      // A new block of headers starts a new section; headers in a row add to it.
      if (current !== undefined) section = {};
      current = undefined;
      section = { ...section, [header[1]!]: header[2]! };
      continue;
    }
    if (line === "FAIL") {
      if (current === undefined) throw new Error("FAIL outside an entry");
      current.fail = true;
      continue;
    }
    const field = /^(\w+) = ?(.*)$/.exec(line);
    if (!field) throw new Error(`unreadable .rsp line: ${line}`);
    if (field[1] === "Count") {
      current = { section, fields: {}, fail: false };
      entries.push(current);
    }
    if (current === undefined) throw new Error(`field outside an entry: ${line}`);
    current.fields[field[1]!] = field[2]!;
  }
  return entries;
}
