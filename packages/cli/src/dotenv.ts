/**
 * Writing `.env` files. Each value is written so that a POSIX shell (`set -a; . ./.env`) reads it back exactly,
 * and so do the common dotenv readers for every value they can represent:
 *
 * - only letters, digits and `_ . / : @ % + , = -`: bare (`PORT=5432`);
 * - anything else without a single quote: in single quotes, where nothing is interpreted — `$`, `"`, `\`,
 *   `#` and line breaks are taken literally (`KEY='pa$$ "word"'`);
 * - with a single quote: in double quotes, with `\`, `"`, `$` and backquote escaped by a backslash and line
 *   breaks kept as they are (`KEY="it's \$5"`).
 */
const BARE = /^[A-Za-z0-9_.\/:@%+,=-]+$/;

export function dotenvValue(value: string): string {
  if (BARE.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  return `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

export function dotenvLine(name: string, value: string): string {
  return `${name}=${dotenvValue(value)}\n`;
}
