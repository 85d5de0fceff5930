import { z } from 'zod';
import { requestBodies } from '../api/generated/request-bodies.ts';

/**
 * Form fields are strings; these schemas check them the way the API will, and the converters turn them into
 * the JSON the API takes (an empty optional field is `null`, which clears the stored value). The rules
 * (lengths, patterns, ranges, choices) are read from the API's request-body schemas, generated from its
 * OpenAPI document: a form only adds the words it shows.
 */

type Operation = keyof typeof requestBodies;
type Properties<O extends Operation> = (typeof requestBodies)[O] extends { properties: infer P } ? P : never;
/** The body properties of `O`. */
export type BodyField<O extends Operation> = keyof Properties<O> & string;
type ChoicesOf<P> = P extends { enum: readonly (infer V)[] }
  ? V
  : P extends { anyOf: readonly (infer B)[] }
    ? ChoicesOf<B>
    : never;

interface PropertySchema {
  type?: string | readonly string[];
  format?: string;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  enum?: readonly string[];
  anyOf?: readonly PropertySchema[];
  items?: PropertySchema;
  maxItems?: number;
}

/**
 * The API's schema of one body property, out of `anyOf [schema, null]` or `type: [type, "null"]`, and whether
 * it takes null.
 */
export function bodyProperty<O extends Operation>(
  operation: O,
  name: BodyField<O>,
): { schema: PropertySchema; nullable: boolean } {
  const body: { properties?: Record<string, PropertySchema> } = requestBodies[operation];
  const property = body.properties?.[name];
  if (property === undefined) throw new Error(`${operation} has no body property ${name}`);
  if (Array.isArray(property.type)) {
    // A scalar that takes null says so in its type list (`["integer", "null"]`).
    const types: readonly string[] = property.type;
    const single = types.filter((t) => t !== 'null');
    return {
      schema: { ...property, type: single.length === 1 ? single[0] : single },
      nullable: types.includes('null'),
    };
  }
  if (property.anyOf === undefined) return { schema: property, nullable: false };
  return {
    schema: property.anyOf.find((branch) => branch.type !== 'null') ?? {},
    nullable: property.anyOf.some((branch) => branch.type === 'null'),
  };
}

/** How a form words a text field's errors, and whether it may stay empty where the API needs a value. */
export interface TextWords {
  /** The message for an empty field the API needs. */
  required?: string;
  /** The message for a value the API's pattern or format refuses. */
  invalid?: string;
  /** Whether surrounding blanks are removed first; default yes (not for passwords and patterns). */
  trim?: boolean;
  /** An empty field is left out of the body (or means "unchanged"), so it passes. */
  optional?: boolean;
}

/**
 * A text field checked by the API's rule for `name` (length, pattern, e-mail format). Empty passes where the
 * API takes null or an empty string, or the form leaves it out (`optional`).
 */
export function textField<O extends Operation>(operation: O, name: BodyField<O>, words: TextWords = {}) {
  const { schema, nullable } = bodyProperty(operation, name);
  const min = schema.minLength ?? 0;
  const max = schema.maxLength;
  const pattern = schema.pattern === undefined ? undefined : new RegExp(schema.pattern);
  const emptyAllowed =
    words.optional === true ||
    nullable ||
    (schema.format === undefined && min === 0 && (pattern?.test('') ?? true));
  const orEmpty = words.optional === true ? ', or empty' : '';
  const wellFormed = (v: string) =>
    (pattern === undefined || pattern.test(v)) &&
    (schema.format !== 'email' || z.email().safeParse(v).success);
  const text = words.trim === false ? z.string() : z.string().trim();
  return text
    .refine((v) => v !== '' || emptyAllowed, words.required ?? 'Required')
    .refine((v) => v === '' || v.length >= min, `At least ${min} characters${orEmpty}`)
    .refine((v) => max === undefined || v.length <= max, `At most ${max} characters`)
    .refine((v) => v === '' || wellFormed(v), words.invalid ?? 'Not valid here');
}

/**
 * A list typed into one text field (`split` turns the text into its items), each item checked by the
 * API's item pattern and the list by its size limit.
 */
export function listField<O extends Operation>(
  operation: O,
  name: BodyField<O>,
  split: (text: string) => string[],
  invalid: string,
) {
  const { schema } = bodyProperty(operation, name);
  const pattern = schema.items?.pattern === undefined ? undefined : new RegExp(schema.items.pattern);
  const max = schema.maxItems;
  return z
    .string()
    .refine((v) => pattern === undefined || split(v).every((item) => pattern.test(item)), invalid)
    .refine((v) => max === undefined || split(v).length <= max, `At most ${max} entries`);
}

/** A whole-number field within the API's minimum and maximum for `name`; empty (null) where it takes null. */
export function countField<O extends Operation>(operation: O, name: BodyField<O>) {
  const { schema, nullable } = bodyProperty(operation, name);
  const min = schema.minimum ?? 0;
  const max = schema.maximum ?? Number.MAX_SAFE_INTEGER;
  return nullable ? optionalCount(max, min) : count(min, max);
}

/** The API's choices for `name`, as its enum lists them. */
export function choices<O extends Operation, N extends BodyField<O>>(operation: O, name: N) {
  const values = bodyProperty(operation, name).schema.enum ?? [];
  // The generated module states the same list as a literal type; read at run time it is string[].
  return values as readonly (ChoicesOf<Properties<O>[N]> & string)[];
}

/** A choice among the API's values for `name`. */
export function choiceField<O extends Operation, N extends BodyField<O>>(operation: O, name: N) {
  type Choice = ChoicesOf<Properties<O>[N]> & string;
  return z.enum(choices(operation, name) as readonly Choice[] as readonly [Choice, ...Choice[]]);
}

/** An optional whole number no larger than `max` (empty: no limit). */
export function optionalCount(max: number, min = 0) {
  return z
    .string()
    .trim()
    .regex(/^\d*$/, 'A whole number, or empty')
    .refine((v) => v === '' || (Number(v) >= min && Number(v) <= max), `Between ${min} and ${max}`);
}

/** A required whole number in `[min, max]`. */
export function count(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, 'A whole number')
    .refine((v) => Number(v) >= min && Number(v) <= max, `Between ${min} and ${max}`);
}

export function numberOrNull(value: string): number | null {
  return value.trim() === '' ? null : Number(value);
}

export function textOrNull(value: string | undefined): string | null {
  const v = value?.trim() ?? '';
  return v === '' ? null : v;
}

/** `null` as an empty field. */
export function fieldText(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

/** The account states of resellers, customers and subscribers. */
export const STATUSES = choices('updateCustomer', 'status');
export const Status = choiceField('updateCustomer', 'status');
