/**
 * Reading audit entries: which record an entry is about, and what changed. The API stores the record before
 * and after each change with secrets removed; these helpers turn that into a name and a field-by-field diff.
 */

type Json = unknown;

/** Bookkeeping that changes with every write and says nothing to a reader. */
const IGNORED = new Set(['updatedAt', 'createdAt', 'id', 'statusSetBy', 'disabledBy', 'registrations']);

function asRecord(value: Json): Record<string, Json> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, Json>)
    : null;
}

/** The record's human name: a name, user@domain, a number, an e-mail or an address, in that order. */
export function recordName(before: Json, after: Json): string | null {
  const r = asRecord(after) ?? asRecord(before);
  if (r === null) return null;
  const domain = asRecord(r.domain)?.name;
  if (typeof r.username === 'string')
    return typeof domain === 'string' ? `${r.username}@${domain}` : r.username;
  for (const key of ['name', 'e164', 'email', 'address', 'matchPattern', 'calleePrefix', 'key']) {
    const v = r[key];
    if (typeof v === 'string' && v !== '') return v;
  }
  return null;
}

export interface FieldChange {
  field: string;
  before: string;
  after: string;
}

function show(value: Json): string {
  if (value === undefined) return '';
  if (value === null) return '–';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** Fields whose value differs between before and after (a create has only after, a delete only before). */
export function diffOf(before: Json, after: Json): FieldChange[] {
  const b = asRecord(before) ?? {};
  const a = asRecord(after) ?? {};
  const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((f) => !IGNORED.has(f));
  return fields
    .map((field) => ({ field, before: show(b[field]), after: show(a[field]) }))
    .filter((c) => c.before !== c.after);
}
