/**
 * RFC 3339 times to and from `<input type="datetime-local">`, which holds the browser's local time to the minute
 * ("2030-06-01T14:30"). An unchanged field gives back the original time, seconds included, so editing a form
 * does not move times the user did not touch.
 */
const pad = (n: number) => String(n).padStart(2, "0");

export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The field's time as RFC 3339 (UTC); undefined when empty or unreadable; `original` when the field still shows it. */
export function fromLocalInput(value: string, original?: string | null): string | undefined {
  if (value === "") return undefined;
  if (original && value === toLocalInput(original)) return original;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
