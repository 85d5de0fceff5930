import { describe, expect, it } from 'vitest';
import { NumberingError } from '../src/errors.ts';
import type { DialPlan } from '../src/normalise.ts';
import {
  normaliseNumber,
  parseE164,
  resolveDialPlan,
  validateDialPlanSettings,
  validatePhoneNumber,
} from '../src/normalise.ts';

const vienna: DialPlan = { countryCode: '43', nationalPrefix: '0', internationalPrefix: '00', areaCode: '1' };
const austriaNoArea: DialPlan = { ...vienna, areaCode: null };
const newYork: DialPlan = {
  countryCode: '1',
  nationalPrefix: '1',
  internationalPrefix: '011',
  areaCode: '212',
};
const italy: DialPlan = { countryCode: '39', nationalPrefix: '', internationalPrefix: '00', areaCode: null };

describe('normaliseNumber to E.164', () => {
  it.each([
    // plan, dialled, expected E.164, via
    [vienna, '+43 1 1001', '+4311001', 'international'],
    [vienna, '00436601234567', '+436601234567', 'international'],
    [vienna, '0049 30 1234567', '+49301234567', 'international'],
    [vienna, '01 1001', '+4311001', 'national'],
    [vienna, '0660-123 4567', '+436601234567', 'national'],
    [vienna, '(0316) 123456', '+43316123456', 'national'],
    [vienna, '1001', '+4311001', 'local'],
    [vienna, '5551234', '+4315551234', 'local'],
    [newYork, '+1 212 555 0100', '+12125550100', 'international'],
    [newYork, '011 44 20 7946 0000', '+442079460000', 'international'],
    [newYork, '1 212 555 0100', '+12125550100', 'national'],
    [newYork, '(212) 555-0100', '+12125550100', 'national'],
    [newYork, '555-0100', '+12125550100', 'local'],
    [italy, '06 1234 5678', '+390612345678', 'national'],
    [italy, '0039 06 1234 5678', '+390612345678', 'international'],
  ] as const)('%o: %s -> %s', (plan, dialled, e164, via) => {
    expect(normaliseNumber(dialled, plan)).toEqual({ kind: 'e164', e164, digits: e164.slice(1), via });
  });
});

describe('emergency and service numbers are classified, not normalised', () => {
  it.each([
    ['112', 'emergency'],
    ['911', 'emergency'],
    ['144', 'emergency'],
    ['999', 'emergency'],
    ['118', 'emergency'],
    ['116123', 'service'],
    ['11833', 'service'],
    ['155', 'service'],
    ['*21*', 'service'],
    ['#31#', 'service'],
  ] as const)('%s is %s', (dialled, kind) => {
    expect(normaliseNumber(dialled, vienna)).toEqual({ kind, number: dialled });
  });

  it('takes domain-specific emergency numbers', () => {
    expect(normaliseNumber('1450', vienna, { emergencyNumbers: ['1450'] })).toEqual({
      kind: 'emergency',
      number: '1450',
    });
    expect(normaliseNumber('1450', vienna).kind).toBe('e164');
  });
});

describe('invalid input is rejected with a reason', () => {
  it.each([
    [vienna, '', /empty/],
    [vienna, '   ', /empty/],
    [vienna, 'bob', /characters other than digits/],
    [vienna, '+43 1 1001; drop table', /characters other than digits/],
    [vienna, '0043\u00001001', /characters other than digits/],
    [vienna, '12*34', /mixes \* or #/],
    [vienna, '+999 123456', /no valid country calling code/],
    [vienna, '+43 12', /too short/],
    [vienna, '+43 1234567890123456', /longer than 15 digits/],
    [vienna, '0', /not E.164|too short/],
    [vienna, '00', /not E.164/],
    [vienna, '1'.repeat(40), /longer than 32/],
    [vienna, '1'.repeat(10_000), /longer than 32/],
    [austriaNoArea, '1001', /no area code/],
  ] as const)('%o: %j', (plan, dialled, reason) => {
    expect(() => normaliseNumber(dialled, plan)).toThrow(NumberingError);
    expect(() => normaliseNumber(dialled, plan)).toThrow(reason);
  });

  it('reports the code invalid-number', () => {
    try {
      normaliseNumber('abc', vienna);
      expect.unreachable();
    } catch (error) {
      expect((error as NumberingError).code).toBe('invalid-number');
    }
  });
});

describe('parseE164', () => {
  it('accepts E.164 with or without + and separators', () => {
    expect(parseE164('+43 1 1001')).toBe('4311001');
    expect(parseE164('4311001')).toBe('4311001');
  });
  it.each(['', '0043 1 1001', '+43-abc', '+0123456', '+4312'])('rejects %j', (input) => {
    expect(() => parseE164(input)).toThrow(NumberingError);
  });
});

describe('resolveDialPlan fills unset prefixes from the country metadata', () => {
  it.each([
    ['43', { nationalPrefix: '0', internationalPrefix: '00' }],
    ['1', { nationalPrefix: '1', internationalPrefix: '011' }],
    ['39', { nationalPrefix: '', internationalPrefix: '00' }],
    ['7', { nationalPrefix: '8', internationalPrefix: '810' }],
  ])('country code %s', (countryCode, expected) => {
    expect(
      resolveDialPlan({ countryCode, nationalPrefix: null, internationalPrefix: null, areaCode: null }),
    ).toEqual({
      countryCode,
      areaCode: null,
      ...expected,
    });
  });

  it('keeps what the domain sets', () => {
    expect(
      resolveDialPlan({ countryCode: '43', nationalPrefix: '', internationalPrefix: '+', areaCode: '1' }),
    ).toEqual({
      countryCode: '43',
      nationalPrefix: '',
      internationalPrefix: '+',
      areaCode: '1',
    });
  });

  it('without a country code, only international numbers are understood', () => {
    const plan = resolveDialPlan({
      countryCode: null,
      nationalPrefix: null,
      internationalPrefix: null,
      areaCode: null,
    });
    expect(normaliseNumber('0043 1 1001', plan)).toMatchObject({ e164: '+4311001' });
    expect(() => normaliseNumber('01 1001', plan)).toThrow(/no country code/);
  });
});

describe('provisioning checks', () => {
  it.each([
    ['+43 1 1001', { e164: '+4311001', countryCode: '43', nationalNumber: '11001', country: 'AT' }],
    ['12125550100', { e164: '+12125550100', countryCode: '1', nationalNumber: '2125550100', country: 'US' }],
  ])('validatePhoneNumber(%j)', (input, expected) => {
    expect(validatePhoneNumber(input)).toEqual(expected);
  });

  it.each([
    ['01 1001', /not E.164/],
    ['+999 1234567', /no valid country calling code/],
    ['+43 1', /too short/],
    ['+43 1 1001 x', /not an E.164 number/],
  ])('validatePhoneNumber rejects %j', (input, message) => {
    expect(() => validatePhoneNumber(input)).toThrow(message);
  });

  const ok = { countryCode: '43', nationalPrefix: '0', internationalPrefix: '00', areaCode: '1' };
  it('accepts sound dial plans, unset values included', () => {
    expect(() => validateDialPlanSettings(ok)).not.toThrow();
    expect(() =>
      validateDialPlanSettings({
        countryCode: null,
        nationalPrefix: null,
        internationalPrefix: null,
        areaCode: null,
      }),
    ).not.toThrow();
  });
  it.each([
    [{ countryCode: '+43' }, /country code must be/],
    [{ countryCode: '999' }, /not an assigned country calling code/],
    [{ nationalPrefix: 'O' }, /national prefix/],
    [{ internationalPrefix: '' }, /international prefix/],
    [{ areaCode: '01' }, /area code/],
    [{ countryCode: null }, /needs a country code/],
  ])('rejects %j', (change, message) => {
    expect(() => validateDialPlanSettings({ ...ok, ...change })).toThrow(message);
  });
});
