import { RE2JS } from 're2js';
import { NumberingError } from './errors.ts';
import { printable } from './normalise.ts';
import { checkPattern } from './regex.ts';
import type { RewriteDirection, RewriteField, RewriteRuleData, RewriteRuleSetData } from './types.ts';
import { REWRITE_DIRECTIONS, REWRITE_FIELDS } from './types.ts';

/**
 * Values a rule can refer to as `${name}`, in its match pattern and in its replacement.
 * Unset values expand to the empty string. In a match pattern, values are regex-escaped.
 */
export interface RewriteVariables {
  /** Country code of the dial plan the rule set runs for (subscriber's, else domain's). */
  cc?: string;
  /** Area code of that dial plan. */
  ac?: string;
  /** National (trunk) prefix of that dial plan, e.g. `0`. */
  np?: string;
  /** International (exit) prefix of that dial plan, e.g. `00`. */
  ip?: string;
  /** Country code of the calling subscriber. */
  caller_cc?: string;
  /** Area code of the calling subscriber. */
  caller_ac?: string;
  /** The calling subscriber's own primary number, E.164 digits without `+`. */
  caller_number?: string;
  /** The calling subscriber's SIP user name. */
  caller_user?: string;
}

export const REWRITE_VARIABLES: readonly (keyof RewriteVariables)[] = [
  'cc',
  'ac',
  'np',
  'ip',
  'caller_cc',
  'caller_ac',
  'caller_number',
  'caller_user',
];

/** Values used to check a pattern with variables at provisioning time. */
const SAMPLE_VARIABLES: Required<RewriteVariables> = {
  cc: '43',
  ac: '1',
  np: '0',
  ip: '00',
  caller_cc: '43',
  caller_ac: '1',
  caller_number: '4311001',
  caller_user: 'alice',
};

const VARIABLE_IN_PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

type ReplacementPart = { literal: string } | { group: number } | { variable: keyof RewriteVariables };

/** One rule, checked and ready: either a fixed compiled pattern or a template with variables. */
interface CompiledRule {
  rule: RewriteRuleData;
  fixed: RE2JS | null;
  replacement: ReplacementPart[];
}

export interface CompiledRuleSet {
  id: string;
  name: string;
  /** Rules per direction and field, in evaluation order (priority, then given order). */
  rules: Map<string, CompiledRule[]>;
}

export interface RewriteStep {
  ruleId: string;
  priority: number;
  matchPattern: string;
  replacement: string;
  /** False for rules after the first match: sip:provider semantics stop there. */
  evaluated: boolean;
  matched: boolean;
  before: string;
  after: string;
}

export interface RewriteResult {
  input: string;
  output: string;
  /** Id of the rule that matched, or null when none did (output equals input). */
  matchedRuleId: string | null;
  trace: RewriteStep[];
}

/**
 * Parses a replacement: `$1`..`$9` and `${n}` insert a capture group (`\1`..`\9` too, as written in
 * sip:provider / Kamailio rules), `${name}` inserts a variable, `$$` a literal `$`.
 */
export function parseReplacement(replace: string, groupCount: number): ReplacementPart[] {
  if (typeof replace !== 'string')
    throw new NumberingError('invalid-replacement', 'replacement must be a string');
  if (replace.length > 256)
    throw new NumberingError('invalid-replacement', 'replacement is longer than 256 characters');
  const parts: ReplacementPart[] = [];
  let literal = '';
  const flush = () => {
    if (literal) parts.push({ literal });
    literal = '';
  };
  const group = (n: number, raw: string) => {
    if (n > groupCount) {
      throw new NumberingError(
        'invalid-replacement',
        `replacement refers to ${raw} but the pattern has ${groupCount} capture group${groupCount === 1 ? '' : 's'}`,
      );
    }
    flush();
    parts.push({ group: n });
  };
  for (let i = 0; i < replace.length; i++) {
    const c = replace[i];
    const next = replace[i + 1];
    if (c === '\\' && next !== undefined && /\d/.test(next)) {
      group(Number(next), `\\${next}`);
      i += 1;
    } else if (c === '$' && next === '$') {
      literal += '$';
      i += 1;
    } else if (c === '$' && next !== undefined && /\d/.test(next)) {
      group(Number(next), `$${next}`);
      i += 1;
    } else if (c === '$' && next === '{') {
      const close = replace.indexOf('}', i + 2);
      if (close < 0) throw new NumberingError('invalid-replacement', `unclosed "\${" at position ${i + 1}`);
      const name = replace.slice(i + 2, close);
      if (/^\d{1,2}$/.test(name)) {
        group(Number(name), `\${${name}}`);
      } else if ((REWRITE_VARIABLES as readonly string[]).includes(name)) {
        flush();
        parts.push({ variable: name as keyof RewriteVariables });
      } else {
        throw new NumberingError(
          'invalid-replacement',
          `unknown variable \${${printable(name)}}; known: ${REWRITE_VARIABLES.map((v) => `\${${v}}`).join(', ')}`,
        );
      }
      i = close;
    } else if (c === '$') {
      throw new NumberingError(
        'invalid-replacement',
        `lone "$" at position ${i + 1}; write "$$" for a literal dollar`,
      );
    } else {
      literal += c;
    }
  }
  flush();
  return parts;
}

function checkPatternVariables(match: string): void {
  for (const [, name] of match.matchAll(VARIABLE_IN_PATTERN)) {
    if (!(REWRITE_VARIABLES as readonly string[]).includes(name ?? '')) {
      throw new NumberingError(
        'invalid-regex',
        `unknown variable \${${printable(name ?? '')}} in pattern; known: ${REWRITE_VARIABLES.map((v) => `\${${v}}`).join(', ')}`,
      );
    }
  }
}

function escapeRegex(value: string): string {
  return value.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

function expandPattern(match: string, variables: RewriteVariables): string {
  return match.replace(VARIABLE_IN_PATTERN, (_, name: keyof RewriteVariables) =>
    escapeRegex(variables[name] ?? ''),
  );
}

/**
 * Checks one rule as the provisioning API receives it. Throws {@link NumberingError} naming the problem:
 * bad direction/field, invalid or unsafe regex, unknown variables, replacement referring to missing groups.
 */
export function validateRewriteRule(
  rule: Pick<RewriteRuleData, 'direction' | 'field' | 'matchPattern' | 'replacement'>,
): void {
  compileRule({ id: '', priority: 0, enabled: true, ...rule });
}

function compileRule(rule: RewriteRuleData): CompiledRule {
  if (!REWRITE_DIRECTIONS.includes(rule.direction)) {
    throw new NumberingError('invalid-rule', `direction must be one of ${REWRITE_DIRECTIONS.join(', ')}`);
  }
  if (!REWRITE_FIELDS.includes(rule.field)) {
    throw new NumberingError('invalid-rule', `field must be one of ${REWRITE_FIELDS.join(', ')}`);
  }
  if (typeof rule.matchPattern !== 'string')
    throw new NumberingError('invalid-regex', 'pattern must be a string');
  checkPatternVariables(rule.matchPattern);
  const hasVariables = rule.matchPattern.search(VARIABLE_IN_PATTERN) >= 0;
  // A pattern with variables is checked with sample values; the values are digits or escaped text at call
  // time, which cannot change its structure, so the verdict holds for every call.
  const checked = checkPattern(
    hasVariables ? expandPattern(rule.matchPattern, SAMPLE_VARIABLES) : rule.matchPattern,
  );
  const replacement = parseReplacement(rule.replacement, checked.groupCount);
  return { rule, fixed: hasVariables ? null : checked.regex, replacement };
}

const ruleKey = (direction: RewriteDirection, field: RewriteField) => `${direction}/${field}`;

/**
 * Checks and compiles a whole rule set. Throws on the first bad rule, naming it; the API calls this before
 * saving, and the index calls it when loading (where a bad rule set is logged and left out, never run).
 */
export function compileRuleSet(set: RewriteRuleSetData): CompiledRuleSet {
  const rules = new Map<string, CompiledRule[]>();
  const ordered = set.rules
    .map((rule, position) => ({ rule, position }))
    .filter(({ rule }) => rule.enabled)
    .sort((a, b) => a.rule.priority - b.rule.priority || a.position - b.position);
  for (const { rule } of ordered) {
    let compiled: CompiledRule;
    try {
      compiled = compileRule(rule);
    } catch (error) {
      if (error instanceof NumberingError) {
        throw new NumberingError(error.code, `rule ${rule.id} of rule set "${set.name}": ${error.message}`);
      }
      throw error;
    }
    const key = ruleKey(rule.direction, rule.field);
    const list = rules.get(key) ?? [];
    list.push(compiled);
    rules.set(key, list);
  }
  return { id: set.id, name: set.name, rules };
}

/** Compiled patterns of rules with variables, keyed by the expanded pattern; bounded. */
const expandedCache = new Map<string, RE2JS>();
const EXPANDED_CACHE_LIMIT = 10_000;

function patternFor(compiled: CompiledRule, variables: RewriteVariables): RE2JS | null {
  if (compiled.fixed) return compiled.fixed;
  const source = expandPattern(compiled.rule.matchPattern, variables);
  let regex = expandedCache.get(source);
  if (!regex) {
    // The shape passed checkPattern at provisioning time and variables only add escaped literal text,
    // so this compiles; should it not, the rule is skipped rather than failing the call.
    try {
      regex = RE2JS.compile(source);
    } catch {
      return null;
    }
    if (expandedCache.size >= EXPANDED_CACHE_LIMIT) expandedCache.clear();
    expandedCache.set(source, regex);
  }
  return regex;
}

/**
 * Rewrites one field with the rules of one direction, in order, stopping at the first rule whose pattern
 * matches (sip:provider semantics). The matched text (the whole value when the pattern is anchored
 * `^...$`) is replaced; text outside the match is kept.
 */
export function applyRewrite(
  set: CompiledRuleSet | null | undefined,
  direction: RewriteDirection,
  field: RewriteField,
  value: string,
  variables: RewriteVariables = {},
): RewriteResult {
  const trace: RewriteStep[] = [];
  const rules = set?.rules.get(ruleKey(direction, field)) ?? [];
  let output = value;
  let matchedRuleId: string | null = null;
  for (const compiled of rules) {
    const { rule } = compiled;
    const step: RewriteStep = {
      ruleId: rule.id,
      priority: rule.priority,
      matchPattern: rule.matchPattern,
      replacement: rule.replacement,
      evaluated: matchedRuleId === null,
      matched: false,
      before: output,
      after: output,
    };
    trace.push(step);
    if (matchedRuleId !== null) continue;
    const regex = patternFor(compiled, variables);
    const matcher = regex?.matcher(value);
    if (!matcher?.find()) continue;
    let replacement = '';
    for (const part of compiled.replacement) {
      if ('literal' in part) replacement += part.literal;
      else if ('group' in part) replacement += matcher.group(part.group) ?? '';
      else replacement += variables[part.variable] ?? '';
    }
    output = value.slice(0, matcher.start()) + replacement + value.slice(matcher.end());
    step.matched = true;
    step.after = output;
    matchedRuleId = rule.id;
  }
  return { input: value, output, matchedRuleId, trace };
}
