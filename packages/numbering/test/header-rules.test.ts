import { describe, expect, it } from 'vitest';
import {
  applyHeaderRules,
  compileHeaderRule,
  compileHeaderRules,
  type HeaderRuleData,
  HeaderRuleError,
  type RuleContext,
  type RuleMessage,
} from '../src/index.ts';

let next = 0;
function rule(fields: Partial<HeaderRuleData> & Pick<HeaderRuleData, 'action'>): HeaderRuleData {
  next += 1;
  return {
    id: `rule-${String(next).padStart(3, '0')}`,
    priority: 100,
    enabled: true,
    direction: null,
    method: null,
    headerName: null,
    headerPattern: null,
    sourceAddress: null,
    callerPattern: null,
    calleePattern: null,
    targetHeader: null,
    matchPattern: null,
    value: null,
    ...fields,
  };
}

const invite: RuleMessage = {
  method: 'INVITE',
  requestUri: 'sip:004930555123@gw.example.net:5060;user=phone',
  headers: [
    ['From', '<sip:+4930111111@example.test>;tag=1'],
    ['P-Asserted-Identity', '<sip:+4930111111@example.test>'],
    ['X-Internal', 'node-7'],
    ['x-account', 'acme'],
    ['User-Agent', 'Switchboard'],
  ],
};
const outbound: RuleContext = { direction: 'outbound', caller: '+4930111111', callee: '004930555123' };

function run(rules: HeaderRuleData[], message = invite, context: RuleContext = outbound) {
  return applyHeaderRules(compileHeaderRules(rules), message, context);
}

function names(message: RuleMessage): string[] {
  return message.headers.map(([name]) => name);
}

describe('header rule actions', () => {
  it('removes a header (any case, every instance) and adds another', () => {
    const { message } = run([
      rule({ action: 'remove_header', targetHeader: 'x-internal' }),
      rule({ action: 'add_header', targetHeader: 'X-Trunk', value: 'a' }),
    ]);
    expect(names(message)).toEqual(['From', 'P-Asserted-Identity', 'x-account', 'User-Agent', 'X-Trunk']);
    expect(message.headers.at(-1)).toEqual(['X-Trunk', 'a']);
    // The input is left alone: the tester shows it as "before".
    expect(names(invite)).toContain('X-Internal');
  });

  it('removes every header of a prefix with a trailing *', () => {
    const { message } = run([rule({ action: 'remove_header', targetHeader: 'X-*' })]);
    expect(names(message)).toEqual(['From', 'P-Asserted-Identity', 'User-Agent']);
  });

  it('replaces the matched part of a header with groups, or the whole value without a pattern', () => {
    const { message } = run([
      rule({
        action: 'replace_header',
        targetHeader: 'P-Asserted-Identity',
        matchPattern: '@example\\.test',
        value: '@carrier.example.net',
      }),
      rule({ action: 'replace_header', targetHeader: 'User-Agent', value: 'SBC' }),
      rule({
        action: 'replace_header',
        targetHeader: 'X-Account',
        matchPattern: '^(\\w+)$',
        value: 'customer-$1',
      }),
    ]);
    expect(message.headers).toContainEqual(['P-Asserted-Identity', '<sip:+4930111111@carrier.example.net>']);
    expect(message.headers).toContainEqual(['User-Agent', 'SBC']);
    expect(message.headers).toContainEqual(['x-account', 'customer-acme']);
  });

  it('sets the Request-URI user and host, keeping port and parameters', () => {
    const { message } = run([
      rule({ action: 'set_ruri_user', matchPattern: '^00', value: '+' }),
      rule({ action: 'set_ruri_host', value: 'trunk.example.net' }),
    ]);
    expect(message.requestUri).toBe('sip:+4930555123@trunk.example.net:5060;user=phone');
  });

  it('keeps only the allow-list and the headers a request cannot lose', () => {
    const message: RuleMessage = {
      ...invite,
      headers: [['Via', 'SIP/2.0/UDP 10.0.0.1'], ['Call-ID', 'x'], ...invite.headers],
    };
    const result = run(
      [rule({ action: 'keep_headers', targetHeader: 'P-Asserted-Identity, X-Account' })],
      message,
    );
    expect(names(result.message)).toEqual(['Via', 'Call-ID', 'From', 'P-Asserted-Identity', 'x-account']);
  });
});

describe('header rule conditions', () => {
  it('runs a rule only in its direction and for its method', () => {
    const add = { action: 'add_header' as const, targetHeader: 'X-Seen', value: '1' };
    expect(names(run([rule({ ...add, direction: 'inbound' })]).message)).not.toContain('X-Seen');
    expect(names(run([rule({ ...add, direction: 'outbound' })]).message)).toContain('X-Seen');
    expect(names(run([rule({ ...add, method: 'bye' })]).message)).not.toContain('X-Seen');
    expect(names(run([rule({ ...add, method: 'invite' })]).message)).toContain('X-Seen');
  });

  it('needs the header present, and matching its pattern when one is set', () => {
    const add = { action: 'add_header' as const, targetHeader: 'X-Seen', value: '1' };
    expect(run([rule({ ...add, headerName: 'X-Missing' })]).steps[0]?.matched).toBe(false);
    expect(run([rule({ ...add, headerName: 'x-internal' })]).steps[0]?.matched).toBe(true);
    expect(
      run([rule({ ...add, headerName: 'X-Internal', headerPattern: '^node-[0-9]$' })]).steps[0]?.matched,
    ).toBe(true);
    expect(run([rule({ ...add, headerName: 'X-Internal', headerPattern: '^edge-' })]).steps[0]?.matched).toBe(
      false,
    );
  });

  it('matches the source address by IP and CIDR block', () => {
    const add = { action: 'add_header' as const, targetHeader: 'X-Seen', value: '1' };
    const from = (sourceAddress: string) => ({ direction: 'inbound' as const, sourceAddress });
    expect(
      run([rule({ ...add, sourceAddress: '127.0.0.0/24' })], invite, from('127.0.0.9')).steps[0]?.matched,
    ).toBe(true);
    expect(
      run([rule({ ...add, sourceAddress: '127.0.0.0/24' })], invite, from('127.0.1.9')).steps[0]?.matched,
    ).toBe(false);
    expect(run([rule({ ...add, sourceAddress: '::1' })], invite, from('::1')).steps[0]?.matched).toBe(true);
    // Outbound requests have no source address: a rule that asks for one never matches them.
    expect(run([rule({ ...add, sourceAddress: '127.0.0.1' })]).steps[0]?.matched).toBe(false);
  });

  it('matches caller and callee numbers', () => {
    const add = { action: 'add_header' as const, targetHeader: 'X-Seen', value: '1' };
    expect(run([rule({ ...add, callerPattern: '^\\+4930' })]).steps[0]?.matched).toBe(true);
    expect(run([rule({ ...add, calleePattern: '^0033' })]).steps[0]?.matched).toBe(false);
  });

  it('runs in priority order, each rule seeing what the earlier ones left; disabled rules do not run', () => {
    const { message, steps } = run([
      rule({ action: 'add_header', targetHeader: 'X-Late', value: 'x', headerName: 'X-Early', priority: 20 }),
      rule({ action: 'add_header', targetHeader: 'X-Early', value: 'y', priority: 10 }),
      rule({ action: 'remove_header', targetHeader: 'X-Early', enabled: false, priority: 30 }),
    ]);
    expect(names(message).slice(-2)).toEqual(['X-Early', 'X-Late']);
    expect(steps.map((s) => s.matched)).toEqual([true, true]);
  });
});

describe('header rule validation', () => {
  const cases: Array<[Partial<HeaderRuleData> & Pick<HeaderRuleData, 'action'>, string]> = [
    [{ action: 'add_header', value: 'x' }, 'targetHeader'],
    [{ action: 'add_header', targetHeader: 'Bad Header', value: 'x' }, 'targetHeader'],
    [{ action: 'add_header', targetHeader: 'X-A', value: 'a\r\nVia: injected' }, 'value'],
    [
      { action: 'remove_header', targetHeader: 'X-A', headerPattern: '(a+)+', headerName: 'X-A' },
      'headerPattern',
    ],
    [{ action: 'replace_header', targetHeader: 'X-A', matchPattern: 'a', value: '$1' }, 'value'],
    [{ action: 'set_ruri_user' }, 'value'],
    [{ action: 'keep_headers', targetHeader: ' , ' }, 'targetHeader'],
    [
      { action: 'add_header', targetHeader: 'X-A', value: 'x', sourceAddress: '10.0.0.0/99' },
      'sourceAddress',
    ],
    [{ action: 'add_header', targetHeader: 'X-A', value: 'x', callerPattern: '(?=1)' }, 'callerPattern'],
  ];
  it.each(cases)('refuses %j naming %s', (fields, field) => {
    let error: unknown;
    try {
      compileHeaderRule(rule(fields));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HeaderRuleError);
    expect((error as HeaderRuleError).field).toBe(field);
  });
});
