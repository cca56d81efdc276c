import type { PageOf } from './store.js';

/** Keyset pagination: one row more than the page tells whether another page follows. */
export function page<T>(rows: T[], limit: number, key: (row: T) => string): PageOf<T> {
  if (rows.length <= limit) return { items: rows, marker: null };
  const items = rows.slice(0, limit);
  return { items, marker: key(items[items.length - 1]!) };
}

/** LIKE treats %, _ and the escape character as wildcards; a search for them means the characters themselves. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Whether a failed insert broke a unique key (the store turns that into DuplicateKeyError). */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  // SQLite (better-sqlite3) and PostgreSQL (23505) report a unique violation differently.
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
