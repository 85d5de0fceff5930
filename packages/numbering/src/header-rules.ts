import { BlockList, isIP } from 'node:net';
import { NumberingError } from './errors.ts';
import { checkPattern, type SafePattern } from './regex.ts';
import { parseReplacement } from './rewrite.ts';

/**
 * Header manipulation rules of the session border controller (docs/sbc.md, "Header rules"): a rule's
 * conditions (direction, method, a header present or matching, the source address, caller and callee
 * numbers) select a request; its action adds, removes or replaces a header, rewrites the Request-URI's
 * user or host, or keeps only an allow-list of headers. Patterns are the numbering rules' RE2-safe
 * regular expressions, so a rule runs in time linear in the message.
 */

export type HeaderRuleDirection = 'inbound' | 'outbound';
export type HeaderRuleAction =
  | 'add_header'
  | 'remove_header'
  | 'replace_header'
  | 'set_ruri_user'
  | 'set_ruri_host'
  | 'keep_headers';

export const HEADER_RULE_ACTIONS: readonly HeaderRuleAction[] = [
  'add_header',
  'remove_header',
  'replace_header',
  'set_ruri_user',
  'set_ruri_host',
  'keep_headers',
];

/** One rule as stored (the `header_rules` row). */
export interface HeaderRuleData {
  id: string;
  priority: number;
  enabled: boolean;
  direction: HeaderRuleDirection | null;
  method: string | null;
  headerName: string | null;
  headerPattern: string | null;
  sourceAddress: string | null;
  callerPattern: string | null;
  calleePattern: string | null;
  action: HeaderRuleAction;
  targetHeader: string | null;
  matchPattern: string | null;
  value: string | null;
}

/** The request a rule set works on: method, Request-URI and headers in order (names as written). */
export interface RuleMessage {
  method: string;
  requestUri: string;
  headers: Array<[name: string, value: string]>;
}

/** What the rules know of the call besides the message. */
export interface RuleContext {
  direction: HeaderRuleDirection;
  /** Source address of an inbound request (IP literal). */
  sourceAddress?: string | undefined;
  caller?: string | undefined;
  callee?: string | undefined;
}

/**
 * Headers `keep_headers` never removes: without them the request is not a SIP request any more
 * (RFC 3261 §8.1.1) or its body cannot be read.
 */
const ALWAYS_KEPT = new Set([
  'via',
  'from',
  'to',
  'call-id',
  'cseq',
  'max-forwards',
  'contact',
  'route',
  'content-type',
  'content-length',
  'authorization',
  'proxy-authorization',
]);

/** RFC 3261 §7.3.1 token: what a header name may be. */
const HEADER_NAME = /^[A-Za-z0-9!%'*+._`~-]+$/;
/** A header value on one line (no CR/LF: a value must not smuggle in another header). */
const HEADER_VALUE = /^[^\r\n\0]*$/;

interface Replacer {
  pattern: SafePattern | null;
  parts: ReturnType<typeof parseReplacement>;
}

export interface CompiledHeaderRule {
  rule: HeaderRuleData;
  headerPattern: SafePattern | null;
  caller: SafePattern | null;
  callee: SafePattern | null;
  source: BlockList | null;
  replacer: Replacer;
  /** keep_headers: the allow-list, lower case. */
  keep: Set<string>;
}

/** A rule the SIP path could not run; `field` names the rule's field at fault. */
export class HeaderRuleError extends NumberingError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('invalid-header-rule', `${field}: ${message}`);
  }
}

function fail(field: string, message: string): never {
  throw new HeaderRuleError(field, message);
}

function pattern(field: string, source: string | null): SafePattern | null {
  if (source === null || source === '') return null;
  try {
    return checkPattern(source);
  } catch (error) {
    fail(field, error instanceof Error ? error.message : String(error));
  }
}

function headerName(field: string, name: string | null): string | null {
  if (name === null || name === '') return null;
  const bare = name.endsWith('*') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 64 || !HEADER_NAME.test(bare))
    fail(field, `"${name}" is not a header name`);
  return name;
}

function sourceList(address: string | null): BlockList | null {
  if (address === null || address === '') return null;
  const list = new BlockList();
  const [ip, prefix] = address.split('/');
  const version = isIP(ip ?? '');
  if (!ip || version === 0) fail('sourceAddress', `"${address}" is not an IP address or CIDR block`);
  const type = version === 4 ? 'ipv4' : 'ipv6';
  if (prefix === undefined) list.addAddress(ip, type);
  else {
    const bits = Number(prefix);
    if (!/^\d+$/.test(prefix) || bits > (version === 4 ? 32 : 128))
      fail('sourceAddress', `"${address}" has a bad prefix length`);
    list.addSubnet(ip, bits, type);
  }
  return list;
}

/**
 * Compiles one rule, checking it as the API must before saving it: throws {@link HeaderRuleError}
 * naming the field at fault.
 */
export function compileHeaderRule(rule: HeaderRuleData): CompiledHeaderRule {
  if (!HEADER_RULE_ACTIONS.includes(rule.action)) fail('action', `unknown action "${rule.action}"`);
  if (rule.method !== null && rule.method !== '' && !HEADER_NAME.test(rule.method))
    fail('method', `"${rule.method}" is not a SIP method`);
  headerName('headerName', rule.headerName);
  const target = rule.action === 'keep_headers' ? null : headerName('targetHeader', rule.targetHeader);
  const matchPattern = pattern('matchPattern', rule.matchPattern);
  const value = rule.value ?? '';
  if (!HEADER_VALUE.test(value) || value.length > 512)
    fail('value', 'must be one line of at most 512 characters');
  const keep = new Set<string>();
  switch (rule.action) {
    case 'add_header':
    case 'replace_header':
      if (!target || target.endsWith('*')) fail('targetHeader', `${rule.action} needs one header name`);
      break;
    case 'remove_header':
      if (!target) fail('targetHeader', 'remove_header needs a header name (a trailing * matches a prefix)');
      break;
    case 'keep_headers':
      for (const name of (rule.targetHeader ?? '').split(',')) {
        const trimmed = name.trim();
        if (trimmed === '') continue;
        headerName('targetHeader', trimmed);
        keep.add(trimmed.toLowerCase());
      }
      if (keep.size === 0) fail('targetHeader', 'keep_headers needs a comma-separated list of header names');
      break;
    default:
      if (!matchPattern && value === '') fail('value', `${rule.action} needs a value`);
  }
  let parts: ReturnType<typeof parseReplacement>;
  try {
    parts = parseReplacement(value, matchPattern?.groupCount ?? 0);
  } catch (error) {
    fail('value', error instanceof Error ? error.message : String(error));
  }
  return {
    rule,
    headerPattern: pattern('headerPattern', rule.headerPattern),
    caller: pattern('callerPattern', rule.callerPattern),
    callee: pattern('calleePattern', rule.calleePattern),
    source: sourceList(rule.sourceAddress),
    replacer: { pattern: matchPattern, parts },
    keep,
  };
}

/** Compiles the rules of one set, enabled ones only, in ascending priority. */
export function compileHeaderRules(rules: readonly HeaderRuleData[]): CompiledHeaderRule[] {
  return rules
    .filter((rule) => rule.enabled)
    .sort((a, b) => a.priority - b.priority || a.id.localeCompare(b.id))
    .map(compileHeaderRule);
}

function nameMatches(wanted: string, name: string): boolean {
  const w = wanted.toLowerCase();
  const n = name.toLowerCase();
  return w.endsWith('*') ? n.startsWith(w.slice(0, -1)) : n === w;
}

function matches(p: SafePattern | null, value: string | undefined): boolean {
  if (!p) return true;
  return value !== undefined && p.regex.matcher(value).find();
}

function holds(compiled: CompiledHeaderRule, message: RuleMessage, context: RuleContext): boolean {
  const { rule } = compiled;
  if (rule.direction && rule.direction !== context.direction) return false;
  if (rule.method && rule.method.toUpperCase() !== message.method.toUpperCase()) return false;
  if (rule.headerName) {
    const values = message.headers.filter(([name]) => nameMatches(rule.headerName ?? '', name));
    if (values.length === 0) return false;
    if (compiled.headerPattern && !values.some(([, value]) => matches(compiled.headerPattern, value)))
      return false;
  }
  if (compiled.source) {
    const address = context.sourceAddress;
    const version = address ? isIP(address) : 0;
    if (!address || version === 0 || !compiled.source.check(address, version === 4 ? 'ipv4' : 'ipv6'))
      return false;
  }
  return matches(compiled.caller, context.caller) && matches(compiled.callee, context.callee);
}

/** `value` with the replacer applied: the first match replaced (groups filled in), or the value itself. */
function replaced(replacer: Replacer, current: string): string {
  const literal = (): string =>
    replacer.parts.map((part) => ('literal' in part ? part.literal : '')).join('');
  if (!replacer.pattern) return literal();
  const matcher = replacer.pattern.regex.matcher(current);
  if (!matcher.find()) return current;
  let out = '';
  for (const part of replacer.parts) {
    if ('literal' in part) out += part.literal;
    else if ('group' in part) out += matcher.group(part.group) ?? '';
  }
  return current.slice(0, matcher.start()) + out + current.slice(matcher.end());
}

/** The user and host parts of a SIP URI (`sip:user@host:port;params`), for set_ruri_*. */
const URI_PARTS = /^(sips?:)(?:([^@;?]*)@)?(\[[^\]]*\]|[^:;?>]*)(.*)$/i;

function withUriPart(uri: string, part: 'user' | 'host', replacer: Replacer): string {
  const m = URI_PARTS.exec(uri);
  if (!m) return uri;
  const [, scheme = 'sip:', user, host = '', rest = ''] = m;
  if (part === 'user') {
    const next = replaced(replacer, user ?? '');
    return `${scheme}${next === '' ? '' : `${next}@`}${host}${rest}`;
  }
  const next = replaced(replacer, host);
  return `${scheme}${user !== undefined ? `${user}@` : ''}${next === '' ? host : next}${rest}`;
}

function act(compiled: CompiledHeaderRule, message: RuleMessage): RuleMessage {
  const { rule, replacer } = compiled;
  const target = rule.targetHeader ?? '';
  switch (rule.action) {
    case 'add_header':
      return { ...message, headers: [...message.headers, [target, replaced(replacer, '')]] };
    case 'remove_header':
      return { ...message, headers: message.headers.filter(([name]) => !nameMatches(target, name)) };
    case 'replace_header':
      return {
        ...message,
        headers: message.headers.map(([name, value]) =>
          nameMatches(target, name) ? [name, replaced(replacer, value)] : [name, value],
        ),
      };
    case 'set_ruri_user':
      return { ...message, requestUri: withUriPart(message.requestUri, 'user', replacer) };
    case 'set_ruri_host':
      return { ...message, requestUri: withUriPart(message.requestUri, 'host', replacer) };
    case 'keep_headers':
      return {
        ...message,
        headers: message.headers.filter(
          ([name]) => ALWAYS_KEPT.has(name.toLowerCase()) || compiled.keep.has(name.toLowerCase()),
        ),
      };
  }
}

/** One rule's evaluation, for the tester. */
export interface HeaderRuleStep {
  ruleId: string;
  matched: boolean;
}

/**
 * Runs `rules` (compiled, in order) over `message`: every rule whose conditions hold acts on the
 * message as the rules before it left it. Returns the new message (the input is not changed) and
 * which rules matched.
 */
export function applyHeaderRules(
  rules: readonly CompiledHeaderRule[],
  message: RuleMessage,
  context: RuleContext,
): { message: RuleMessage; steps: HeaderRuleStep[] } {
  let current = message;
  const steps: HeaderRuleStep[] = [];
  for (const compiled of rules) {
    const matched = holds(compiled, current, context);
    steps.push({ ruleId: compiled.rule.id, matched });
    if (matched) current = act(compiled, current);
  }
  return { message: current, steps };
}
