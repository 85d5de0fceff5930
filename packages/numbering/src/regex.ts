import type { AST } from '@eslint-community/regexpp';
import { RegExpParser, visitRegExpAST } from '@eslint-community/regexpp';
import { RE2JS } from 're2js';
import { NumberingError } from './errors.ts';
import { printable } from './normalise.ts';

/** Longest pattern accepted: rewrite and peering patterns are short; anything longer is a mistake or an attack. */
export const MAX_PATTERN_LENGTH = 256;

/** A pattern that passed {@link checkPattern}: compiled for RE2's linear-time matcher. */
export interface SafePattern {
  source: string;
  regex: RE2JS;
  /** Number of capturing groups, so replacements can be checked against it. */
  groupCount: number;
}

/**
 * Checks a regular expression when it is provisioned, so that a call never meets a bad one:
 * - ECMAScript syntax, at most {@link MAX_PATTERN_LENGTH} characters;
 * - no nested quantifiers (`(a+)+`, `(\d*)*`, `(a{2,})+`): the classic catastrophic-backtracking shape,
 *   rejected even though we never backtrack, so patterns stay portable to backtracking engines;
 * - no backreferences or lookaround: not regular, so not matchable in linear time;
 * - must compile with RE2 (re2js), which then runs it in time linear in the input.
 *
 * Throws {@link NumberingError} `invalid-regex` or `unsafe-regex` with a message naming the problem.
 */
export function checkPattern(source: string): SafePattern {
  if (typeof source !== 'string' || source.length === 0) {
    throw new NumberingError('invalid-regex', 'pattern is empty');
  }
  if (source.length > MAX_PATTERN_LENGTH) {
    throw new NumberingError('unsafe-regex', `pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  let ast: AST.Pattern;
  try {
    ast = new RegExpParser({ ecmaVersion: 2025 }).parsePattern(source, 0, source.length, { unicode: false });
  } catch (error) {
    const detail =
      error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error);
    throw new NumberingError('invalid-regex', `invalid regular expression: ${detail}`);
  }
  let groupCount = 0;
  let problem: string | null = null;
  visitRegExpAST(ast, {
    onCapturingGroupEnter() {
      groupCount += 1;
    },
    onBackreferenceEnter(node) {
      problem ??= `backreference "${node.raw}" is not allowed (not matchable in linear time)`;
    },
    onAssertionEnter(node) {
      if (node.kind === 'lookahead' || node.kind === 'lookbehind') {
        problem ??= `lookaround "${node.raw}" is not allowed (not matchable in linear time)`;
      }
    },
    onQuantifierEnter(node) {
      if (node.max > 1 && containsQuantifier(node.element)) {
        problem ??= `nested quantifier in "${node.raw}" can take exponential time; remove the inner or outer repetition`;
      }
    },
  });
  if (problem) throw new NumberingError('unsafe-regex', problem);
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(source);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new NumberingError('invalid-regex', `pattern "${printable(source)}" is not supported: ${detail}`);
  }
  return { source, regex, groupCount };
}

function containsQuantifier(node: AST.Node): boolean {
  switch (node.type) {
    case 'Quantifier':
      return true;
    case 'Group':
    case 'CapturingGroup':
    case 'Pattern':
      return node.alternatives.some((alternative) => containsQuantifier(alternative));
    case 'Alternative':
      return node.elements.some((element) => containsQuantifier(element));
    default:
      return false;
  }
}

/** Boolean form for callers that only need a yes/no; the error carries the reason. */
export function isSafePattern(source: string): boolean {
  try {
    checkPattern(source);
    return true;
  } catch {
    return false;
  }
}
