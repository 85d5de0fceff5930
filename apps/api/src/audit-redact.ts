/**
 * What the audit log may keep of a record: everything but secrets. Password hashes, SIP HA1s, token and key
 * hashes never reach the audit table, whatever the entity.
 */
const SECRET_KEY = /pass(word)?|ha1|hash|secret|token|apikey/i;

export function redactForAudit(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (depth > 4) return '[nested]';
  if (Array.isArray(value)) return value.map((v) => redactForAudit(v, depth + 1));
  if (typeof value === 'object') {
    // Decimal and similar value objects serialise themselves.
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function' && Object.getPrototypeOf(value) !== Object.prototype) {
      return toJSON.call(value);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (SECRET_KEY.test(k)) continue;
      out[k] = redactForAudit(v, depth + 1);
    }
    return out;
  }
  return value;
}
