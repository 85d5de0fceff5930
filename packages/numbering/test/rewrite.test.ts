// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rewrite rules write variables as ${name} in plain strings
import { describe, expect, it } from 'vitest';
import { NumberingError } from '../src/errors.ts';
import { checkPattern, MAX_PATTERN_LENGTH } from '../src/regex.ts';
import type { RewriteVariables } from '../src/rewrite.ts';
import { applyRewrite, compileRuleSet, validateRewriteRule } from '../src/rewrite.ts';
import { rule, sampleData } from './fixtures.ts';

const austria = compileRuleSet(sampleData().rewriteRuleSets[0]!);
const vienna: RewriteVariables = { cc: '43', ac: '1', np: '0', ip: '00' };

describe('rewriting: first matching rule wins per direction and field', () => {
  it.each([
    // dialled by a subscriber -> E.164 digits
    ['from_subscriber', 'callee', '004930123456', '4930123456', 'r1'],
    ['from_subscriber', 'callee', '06601234567', '436601234567', 'r2'],
    ['from_subscriber', 'callee', '1001', '4311001', 'r3'],
    // nothing matches: unchanged
    ['from_subscriber', 'callee', 'bob', 'bob', null],
    ['from_subscriber', 'caller', '06601234567', '06601234567', null],
    // delivered to a subscriber: national calls shown with 0, international with 00
    ['to_subscriber', 'caller', '436601234567', '06601234567', 'r4'],
    ['to_subscriber', 'caller', '4930123456', '004930123456', 'r5'],
  ] as const)('%s %s: %s -> %s', (direction, field, input, output, ruleId) => {
    const result = applyRewrite(austria, direction, field, input, vienna);
    expect(result.output).toBe(output);
    expect(result.matchedRuleId).toBe(ruleId);
  });

  it('traces every rule: before, after, matched, and skips those after the first match', () => {
    const result = applyRewrite(austria, 'from_subscriber', 'callee', '06601234567', vienna);
    expect(
      result.trace.map(({ ruleId, evaluated, matched, before, after }) => ({
        ruleId,
        evaluated,
        matched,
        before,
        after,
      })),
    ).toEqual([
      { ruleId: 'r1', evaluated: true, matched: false, before: '06601234567', after: '06601234567' },
      { ruleId: 'r2', evaluated: true, matched: true, before: '06601234567', after: '436601234567' },
      { ruleId: 'r3', evaluated: false, matched: false, before: '436601234567', after: '436601234567' },
    ]);
  });

  it('orders by priority, not by position, and leaves disabled rules out', () => {
    const set = compileRuleSet({
      id: 'x',
      name: 'x',
      rules: [
        rule('late', 'inbound_from_peer', 'callee', '^(.*)$', 'late-$1', 50),
        rule('early', 'inbound_from_peer', 'callee', '^(.*)$', 'early-$1', 5),
        { ...rule('off', 'inbound_from_peer', 'callee', '^(.*)$', 'off-$1', 1), enabled: false },
      ],
    });
    expect(applyRewrite(set, 'inbound_from_peer', 'callee', '123').output).toBe('early-123');
  });

  it('replaces only the matched text of an unanchored pattern', () => {
    const set = compileRuleSet({
      id: 'x',
      name: 'x',
      rules: [rule('a', 'outbound_to_peer', 'callee', '^\\+', '00', 1)],
    });
    expect(applyRewrite(set, 'outbound_to_peer', 'callee', '+4311001').output).toBe('004311001');
  });

  it.each([
    ['$1$2', '4311001'],
    ['${1}0$2', '43101001'],
    ['\\2', '1001'],
    ['$$1', '$1'],
    ['${caller_number}', '436601234567'],
    ['${caller_user}-$2', 'alice-1001'],
    ['${ip}${cc}', '0043'],
    ['${ac}', ''],
  ])('replacement %s', (replace, output) => {
    const set = compileRuleSet({
      id: 'x',
      name: 'x',
      rules: [rule('a', 'outbound_to_peer', 'callee', '^(431)(\\d+)$', replace, 1)],
    });
    const variables = { cc: '43', ip: '00', caller_number: '436601234567', caller_user: 'alice' };
    expect(applyRewrite(set, 'outbound_to_peer', 'callee', '4311001', variables).output).toBe(output);
  });

  it('expands variables in match patterns, escaped', () => {
    const set = compileRuleSet({
      id: 'x',
      name: 'x',
      rules: [rule('own', 'from_subscriber', 'callee', '^${caller_user}$', '${caller_number}', 1)],
    });
    const vars = { caller_user: 'a.b', caller_number: '4311001' };
    expect(applyRewrite(set, 'from_subscriber', 'callee', 'a.b', vars).output).toBe('4311001');
    expect(applyRewrite(set, 'from_subscriber', 'callee', 'axb', vars).output).toBe('axb');
  });

  it('runs no rules without a rule set', () => {
    expect(applyRewrite(null, 'inbound_from_peer', 'callee', '123')).toEqual({
      input: '123',
      output: '123',
      matchedRuleId: null,
      trace: [],
    });
  });
});

describe('provisioning rejects bad rules with a clear error', () => {
  const base = { direction: 'inbound_from_peer', field: 'callee', replacement: '$1' } as const;
  it.each([
    ['(', 'invalid-regex', /invalid regular expression/],
    ['[0-9', 'invalid-regex', /invalid regular expression/],
    ['', 'invalid-regex', /empty/],
    ['^(\\d+)+$', 'unsafe-regex', /nested quantifier/],
    ['^((0|1)*)*$', 'unsafe-regex', /nested quantifier/],
    ['^(\\d{2,}){3,}$', 'unsafe-regex', /nested quantifier/],
    ['^(\\d)\\1$', 'unsafe-regex', /backreference/],
    ['^(?=1)(\\d)$', 'unsafe-regex', /lookaround/],
    [`^(${'1'.repeat(MAX_PATTERN_LENGTH)})$`, 'unsafe-regex', /longer than 256/],
    ['^${nope}(\\d)$', 'invalid-regex', /unknown variable \$\{nope\}/],
  ])('pattern %j', (match, code, message) => {
    try {
      validateRewriteRule({ ...base, matchPattern: match });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(NumberingError);
      expect((error as NumberingError).code).toBe(code);
      expect((error as Error).message).toMatch(message);
    }
  });

  it.each([
    ['$2', /refers to \$2 but the pattern has 1 capture group/],
    ['${3}', /refers to \$\{3\}/],
    ['\\4', /refers to \\4/],
    ['${who}', /unknown variable \$\{who\}/],
    ['a$', /lone "\$"/],
    ['${1', /unclosed/],
  ])('replacement %j', (replace, message) => {
    expect(() => validateRewriteRule({ ...base, matchPattern: '^(\\d+)$', replacement: replace })).toThrow(
      message,
    );
  });

  it('rejects unknown directions and fields', () => {
    expect(() => validateRewriteRule({ ...base, matchPattern: '1', direction: 'sideways' as never })).toThrow(
      /direction/,
    );
    expect(() => validateRewriteRule({ ...base, matchPattern: '1', field: 'both' as never })).toThrow(
      /field/,
    );
  });

  it('names the bad rule when compiling a whole set', () => {
    expect(() =>
      compileRuleSet({
        id: 'x',
        name: 'broken',
        rules: [rule('bad-one', 'inbound_from_peer', 'callee', '(a*)*', '', 1)],
      }),
    ).toThrow(/rule bad-one of rule set "broken": nested quantifier/);
  });

  it('accepts the usual phone-number patterns', () => {
    for (const match of [
      '^00([1-9][0-9]+)$',
      '^\\+?(43|0043)?(\\d{3,12})$',
      '^(?:0|\\+43)(1|66[0-9])(\\d+)$',
      '^[*#]\\d{2}#?$',
    ]) {
      expect(() => checkPattern(match)).not.toThrow();
    }
  });

  it('matches in linear time even on hostile input', () => {
    // Would take exponential time on a backtracking engine if nesting were allowed; here a long
    // non-matching input over an allowed pattern just does not match.
    const set = compileRuleSet({
      id: 'x',
      name: 'x',
      rules: [rule('a', 'inbound_from_peer', 'callee', '^(0|00|000)?\\d*1$', 'x', 1)],
    });
    expect(applyRewrite(set, 'inbound_from_peer', 'callee', `${'0'.repeat(5000)}2`).matchedRuleId).toBeNull();
  });
});
