import { type Static, type TProperties, type TSchema, Type } from 'typebox';

/** Shapes shared by several resources. Each resource module defines its own item/create/update schemas. */

/** Handlers may return a Prisma `Date`: Fastify's serializer writes it as an ISO 8601 string. */
export const Timestamp = Type.Unsafe<Date | string>(Type.String({ format: 'date-time' }));
export const Timestamps = { createdAt: Timestamp, updatedAt: Timestamp };

export const AccountStatus = Type.Enum(['active', 'locked', 'terminated'], {
  description: '`locked` keeps the data but refuses service; `terminated` is final',
});
export const TransportEnum = Type.Enum(['udp', 'tcp', 'tls', 'ws', 'wss']);

export const Name = Type.String({ minLength: 1, maxLength: 128 });
export const Description = Type.String({ maxLength: 1000 });
export const Uuid = Type.String({ format: 'uuid' });

/** Lowercase DNS host name. */
export const HostName = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern:
    '^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$',
});

/** SIP user part as accepted for subscribers: unreserved characters (RFC 3261 section 25.1), no escapes. */
export const SipUsername = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: "^[A-Za-z0-9\\-_.!~*'()&=+$,;?/]+$",
});

export const SipPassword = Type.String({
  minLength: 8,
  maxLength: 128,
  description: 'SIP digest password; only its HA1 digests are stored',
});

export const Digits = (min: number, max: number, description?: string) =>
  Type.String({ pattern: `^[0-9]{${min},${max}}$`, ...(description ? { description } : {}) });

/** A 204 answer: the handler sends no body (`reply.code(204).send()`); the document shows `description`. */
export const NoContent = (description: string) => Type.Unsafe<undefined>(Type.Null({ description }));

/**
 * `t` or null. A scalar schema says so with a type list (`["integer", "null"]`): the validator coerces
 * query and body types, and inside an `anyOf` it would turn null into 0, "" or false for the first branch
 * before the null branch is tried, so clearing a limit would set it to 0. Other schemas stay a union.
 */
const SCALAR_TYPES = new Set(['string', 'integer', 'number', 'boolean']);
export const Nullable = <T extends TSchema>(t: T) => {
  const type: unknown = (t as { type?: unknown }).type;
  const scalar = typeof type === 'string' && SCALAR_TYPES.has(type) && !('enum' in t);
  return Type.Unsafe<Static<T> | null>(
    scalar ? { ...t, type: [type, 'null'] } : Type.Union([t, Type.Null()]),
  );
};

/** Makes every property of a create schema optional for PATCH. */
export function Patch<T extends TProperties>(props: T) {
  // Partial drops an object's options, so its (typed) properties go into a new object with them.
  const optional = Type.Partial(Type.Object(props)).properties;
  return Type.Object(optional, { additionalProperties: false, minProperties: 1 });
}
