import type { CountryCode } from 'libphonenumber-js';
import { Metadata, parsePhoneNumberFromString, validatePhoneNumberLength } from 'libphonenumber-js';
import metadata from 'libphonenumber-js/min/metadata';
import { NumberingError } from './errors.ts';

/** The dialling defaults a number is completed with: a domain's, optionally overridden by a subscriber. */
export interface DialPlan {
  /** Country calling code without `+`, e.g. `43`; empty: only international dialling is understood. */
  countryCode: string;
  /** National (trunk) prefix, e.g. `0`; empty string for none. */
  nationalPrefix: string;
  /** International (exit) prefix, e.g. `00`; `+` is always accepted too. */
  internationalPrefix: string;
  /** Area code (without national prefix) used to complete short local numbers; null disables them. */
  areaCode: string | null;
}

/**
 * What a dialled string turned out to be. Emergency and service numbers are never turned into E.164:
 * they are routed by their own rules (emergency to the local PSAP peer, service codes to features).
 */
export type NormalisedNumber =
  | { kind: 'e164'; e164: string; digits: string; via: 'international' | 'national' | 'local' }
  | { kind: 'emergency'; number: string }
  | { kind: 'service'; number: string };

/** Longest dialled string accepted; E.164 itself is at most 15 digits plus prefixes. */
export const MAX_DIALLED_LENGTH = 32;

/**
 * Emergency numbers recognised in every domain. 112 and 911 are the GSM-wide ones every handset knows;
 * the rest are the national numbers of the larger numbering plans. A domain can add more.
 */
export const DEFAULT_EMERGENCY_NUMBERS: readonly string[] = [
  '112',
  '911',
  '999',
  '000',
  '110',
  '118',
  '119',
  '122',
  '133',
  '144',
  '15',
  '17',
  '18',
];

/**
 * Short service codes (not emergency): 1xx three-digit codes, 116xxx EU harmonised services,
 * 118xx(x) directory enquiries, and `*` / `#` feature codes.
 */
const SERVICE_CODE = /^(?:1\d{2}|116\d{3}|118\d{2,3}|[*#][\d*#]{0,30})$/;

/** Visual separators people write inside numbers: dropped before parsing. */
const SEPARATORS = /[\s\-.()/]/g;
const DIALLABLE = /^\+?[\d*#]+$/;

export interface NormaliseOptions {
  /** Extra emergency numbers for this domain (added to {@link DEFAULT_EMERGENCY_NUMBERS}). */
  emergencyNumbers?: readonly string[];
}

/**
 * Turns what someone dialled into E.164, using the dial plan of the caller's domain:
 * `+` or the international prefix -> international; the national prefix -> country code added;
 * anything else -> country code and area code added (short local dialling). Emergency numbers and
 * service codes are classified before that and returned as dialled.
 *
 * Throws {@link NumberingError} `invalid-number` with a reason for anything that cannot be a number.
 */
export function normaliseNumber(
  input: string,
  plan: DialPlan,
  options: NormaliseOptions = {},
): NormalisedNumber {
  if (typeof input !== 'string') throw new NumberingError('invalid-number', 'number must be a string');
  if (input.length > MAX_DIALLED_LENGTH * 2) {
    throw new NumberingError('invalid-number', `number is longer than ${MAX_DIALLED_LENGTH} characters`);
  }
  const dialled = input.replace(SEPARATORS, '');
  if (dialled.length === 0) throw new NumberingError('invalid-number', 'number is empty');
  if (dialled.length > MAX_DIALLED_LENGTH) {
    throw new NumberingError('invalid-number', `number is longer than ${MAX_DIALLED_LENGTH} characters`);
  }
  if (!DIALLABLE.test(dialled)) {
    throw new NumberingError(
      'invalid-number',
      `"${printable(input)}" contains characters other than digits, +, * and #`,
    );
  }

  if (isEmergency(dialled, options.emergencyNumbers)) return { kind: 'emergency', number: dialled };
  if (SERVICE_CODE.test(dialled)) return { kind: 'service', number: dialled };
  if (/[*#]/.test(dialled)) {
    throw new NumberingError('invalid-number', `"${dialled}" mixes * or # into a phone number`);
  }

  if (dialled.startsWith('+')) return checked(dialled.slice(1), 'international', input);
  if (plan.internationalPrefix !== '' && dialled.startsWith(plan.internationalPrefix)) {
    return checked(dialled.slice(plan.internationalPrefix.length), 'international', input);
  }
  if (plan.countryCode === '') {
    throw new NumberingError(
      'invalid-number',
      `"${dialled}" is not international and the dial plan has no country code to complete it`,
    );
  }
  if (plan.nationalPrefix !== '' && dialled.startsWith(plan.nationalPrefix)) {
    return checked(plan.countryCode + dialled.slice(plan.nationalPrefix.length), 'national', input);
  }
  if (plan.nationalPrefix === '' || plan.countryCode === '1') {
    // Closed numbering plans (no trunk prefix, or NANP where the trunk 1 may be left out): a full
    // national number is recognised by being a possible number on its own; anything else is local.
    const national = plan.countryCode + dialled;
    if (validatePhoneNumberLength(`+${national}`) === undefined) return checked(national, 'national', input);
  }
  if (!plan.areaCode) {
    throw new NumberingError(
      'invalid-number',
      `"${dialled}" is a local number but the dial plan has no area code to complete it`,
    );
  }
  return checked(plan.countryCode + plan.areaCode + dialled, 'local', input);
}

/** Dial-plan settings as stored for a domain: unset (null) values come from the country's metadata. */
export interface DialPlanSettings {
  countryCode: string | null;
  nationalPrefix: string | null;
  internationalPrefix: string | null;
  areaCode: string | null;
}

/** The parts of libphonenumber's numbering plan used here; `nationalPrefix` exists but is not typed. */
interface PlanMetadata {
  IDDPrefix(): string;
  defaultIDDPrefix(): string | undefined;
  nationalPrefix?(): string | undefined;
}

/**
 * Completes a domain's dial plan: a missing national or international prefix is taken from the
 * country's numbering plan in libphonenumber's metadata (AT: 0 / 00, US: 1 / 011, IT: none / 00).
 */
export function resolveDialPlan(settings: DialPlanSettings): DialPlan {
  const countryCode = settings.countryCode ?? '';
  let nationalPrefix = settings.nationalPrefix;
  let internationalPrefix = settings.internationalPrefix;
  if ((nationalPrefix === null || internationalPrefix === null) && countryCode !== '') {
    const country = (metadata.country_calling_codes as Record<string, CountryCode[] | undefined>)[
      countryCode
    ]?.[0];
    if (country) {
      const plans = new Metadata();
      plans.selectNumberingPlan(country);
      const plan = plans.numberingPlan as PlanMetadata | undefined;
      // The minified metadata writes "no national prefix" as the number 0 (IT, ES, ...).
      const national: unknown = plan?.nationalPrefix?.();
      nationalPrefix ??= typeof national === 'string' ? national : '';
      const idd = plan?.defaultIDDPrefix() ?? plan?.IDDPrefix() ?? '';
      // Some countries list the IDD as a pattern or with a wait-for-tone mark (RU: 8~10).
      internationalPrefix ??= /^\d+$/.test(idd.replace(/~/g, '')) ? idd.replace(/~/g, '') : '00';
    }
  }
  return {
    countryCode,
    nationalPrefix: nationalPrefix ?? '',
    internationalPrefix: internationalPrefix ?? '00',
    areaCode: settings.areaCode || null,
  };
}

export function isEmergency(dialled: string, extra: readonly string[] = []): boolean {
  return DEFAULT_EMERGENCY_NUMBERS.includes(dialled) || extra.includes(dialled);
}

/** Validates a complete E.164 number (with or without `+`) and returns its digits. */
export function parseE164(input: string): string {
  if (typeof input !== 'string') throw new NumberingError('invalid-number', 'number must be a string');
  const compact = input.replace(SEPARATORS, '');
  if (!/^\+?\d+$/.test(compact)) {
    throw new NumberingError(
      'invalid-number',
      `"${printable(input)}" is not an E.164 number (digits, optional +)`,
    );
  }
  const result = checked(compact.replace(/^\+/, ''), 'international', input);
  if (result.kind !== 'e164')
    throw new NumberingError('invalid-number', `"${printable(input)}" is not E.164`);
  return result.digits;
}

/** A provisioned number, split as the numbers table stores it. */
export interface NumberParts {
  /** `+` and digits. */
  e164: string;
  countryCode: string;
  /** Everything after the country code (area code and subscriber number together). */
  nationalNumber: string;
  /** ISO 3166 country of the number when the metadata can tell, e.g. `AT`; null for shared codes it cannot. */
  country: string | null;
}

/**
 * Checks a number before it is provisioned (DID, alias) and splits off the country code. Throws
 * {@link NumberingError} `invalid-number` naming the problem (not E.164, unknown country code, length).
 */
export function validatePhoneNumber(input: string): NumberParts {
  const digits = parseE164(input);
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  if (!parsed) throw new NumberingError('invalid-number', `"${printable(input)}" is not a phone number`);
  return {
    e164: `+${digits}`,
    countryCode: parsed.countryCallingCode,
    nationalNumber: parsed.nationalNumber,
    country: parsed.country ?? null,
  };
}

/**
 * Checks a domain's dialling settings before they are saved. Throws {@link NumberingError}
 * `invalid-rule` naming the setting.
 */
export function validateDialPlanSettings(settings: DialPlanSettings): void {
  const { countryCode, nationalPrefix, internationalPrefix, areaCode } = settings;
  if (countryCode !== null) {
    if (!/^[1-9]\d{0,2}$/.test(countryCode)) {
      throw new NumberingError('invalid-rule', 'country code must be 1 to 3 digits without + or leading 0');
    }
    if (!(countryCode in (metadata.country_calling_codes as Record<string, unknown>))) {
      throw new NumberingError('invalid-rule', `+${countryCode} is not an assigned country calling code`);
    }
  }
  if (nationalPrefix !== null && !/^\d{0,4}$/.test(nationalPrefix)) {
    throw new NumberingError('invalid-rule', 'national prefix must be up to 4 digits');
  }
  if (internationalPrefix !== null && !/^\d{1,5}$/.test(internationalPrefix)) {
    throw new NumberingError('invalid-rule', 'international prefix must be 1 to 5 digits');
  }
  if (areaCode !== null && areaCode !== '' && !/^[1-9]\d{0,5}$/.test(areaCode)) {
    throw new NumberingError('invalid-rule', 'area code must be 1 to 6 digits without the national prefix');
  }
  if (areaCode && countryCode === null) {
    throw new NumberingError('invalid-rule', 'an area code needs a country code');
  }
}

/**
 * Cheap syntax check for numbers that were normalised before (call-time paths: routing, lookups):
 * `+` optional, 2 to 15 digits, no leading zero. Returns the digits or null.
 */
export function e164Digits(input: string): string | null {
  const digits = input.startsWith('+') ? input.slice(1) : input;
  return /^[1-9]\d{1,14}$/.test(digits) ? digits : null;
}

const LENGTH_PROBLEMS: Record<string, string> = {
  INVALID_COUNTRY: 'has no valid country calling code',
  NOT_A_NUMBER: 'is not a number',
  TOO_SHORT: 'is too short for its country',
  TOO_LONG: 'is too long for its country',
  INVALID_LENGTH: 'has a length no number of its country has',
};

function checked(
  digits: string,
  via: 'international' | 'national' | 'local',
  input: string,
): NormalisedNumber {
  if (!/^[1-9]\d*$/.test(digits)) {
    throw new NumberingError(
      'invalid-number',
      `"${printable(input)}" gives "+${digits}", which is not E.164`,
    );
  }
  if (digits.length > 15) {
    throw new NumberingError(
      'invalid-number',
      `"${printable(input)}" gives +${digits}, longer than 15 digits`,
    );
  }
  // Country code and possible lengths come from libphonenumber's metadata, kept up to date upstream.
  const problem = validatePhoneNumberLength(`+${digits}`);
  if (problem !== undefined) {
    throw new NumberingError(
      'invalid-number',
      `"${printable(input)}" gives +${digits}, which ${LENGTH_PROBLEMS[problem] ?? problem}`,
    );
  }
  return { kind: 'e164', e164: `+${digits}`, digits, via };
}

/** Keeps error messages one short printable line whatever the input was. */
export function printable(input: string): string {
  const clean = String(input).replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}...` : clean;
}
