import { z } from 'zod';

/**
 * Form fields are strings; these schemas check them the way the API will, and the converters turn them into
 * the JSON the API takes (an empty optional field is `null`, which clears the stored value).
 */

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

/** Optional digits, at most `max` of them (dialling prefixes, country and area codes). */
export function optionalDigits(max: number) {
  return z
    .string()
    .trim()
    .regex(new RegExp(`^\\d{0,${max}}$`), `Up to ${max} digits`);
}

export const STATUSES = ['active', 'locked', 'terminated'] as const;
export const Status = z.enum(STATUSES);

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
