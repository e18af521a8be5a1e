/** Times go out as RFC 3339 strings; absent ones as null. */
export const isoTime = (date: Date | null): string | null => (date ? new Date(date).toISOString() : null);
