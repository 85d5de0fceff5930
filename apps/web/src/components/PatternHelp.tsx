import { Code, List, Text } from '@mantine/core';

/** A dial-plan variable as written in a rule: `${name}`. */
function Var({ name }: { name: string }) {
  return <Code>{`$\{${name}}`}</Code>;
}

/**
 * How rewrite rules are written, as the numbering engine reads them (packages/numbering/src/rewrite.ts): a
 * regular expression, and one replacement syntax, `$1` for a captured group and `${name}` for a dial-plan
 * value.
 */
export function RewritePatternHelp() {
  return (
    <details>
      <summary>
        <Text span size="sm" fw={500}>
          How to write patterns and replacements
        </Text>
      </summary>
      <List size="sm" spacing={4} mt="xs">
        <List.Item>
          <b>Match pattern</b>: a regular expression on the number as dialled, e.g. <Code>^0(\d+)$</Code> (a
          national number: 0 then digits). <Code>^</Code> and <Code>$</Code> anchor it;{' '}
          <Code style={{ whiteSpace: 'nowrap' }}>( )</Code> captures a part; <Code>\d</Code> is one digit,{' '}
          <Code>+</Code> one or more. Backreferences and lookaround are not allowed, so every pattern runs in
          linear time.
        </List.Item>
        <List.Item>
          <b>Replacement</b>: literal text plus <Code>$1</Code>…<Code>$9</Code> for the captured parts, e.g.{' '}
          <Code>{`$\{cc}$1`}</Code> turns <Code>01234</Code> into <Code>431234</Code> in Austria. Write{' '}
          <Code>$$</Code> for a literal dollar.
        </List.Item>
        <List.Item>
          <b>Dial-plan values</b> (in patterns and replacements): <Var name="cc" /> country code,{' '}
          <Var name="ac" /> area code, <Var name="np" /> national prefix, <Var name="ip" /> international
          prefix, <Var name="caller_cc" />, <Var name="caller_ac" />, <Var name="caller_number" />,{' '}
          <Var name="caller_user" />.
        </List.Item>
        <List.Item>
          Rules run by priority (lowest first); the first match wins. Try a number below to see each step.
        </List.Item>
      </List>
    </details>
  );
}

/** How a peering rule selects calls: a callee prefix on the normalised number, optionally a caller pattern. */
export function PeeringPatternHelp() {
  return (
    <details>
      <summary>
        <Text span size="sm" fw={500}>
          How routing rules match
        </Text>
      </summary>
      <List size="sm" spacing={4} mt="xs">
        <List.Item>
          <b>Callee prefix</b>: digits the normalised callee (E.164 without <Code>+</Code>) starts with, e.g.{' '}
          <Code>4369</Code> for Austrian mobiles; empty matches every callee. Longer matching prefixes are
          tried first, shorter ones follow as fallback.
        </List.Item>
        <List.Item>
          <b>Caller pattern</b> (optional): a regular expression on the caller, e.g. <Code>^43</Code> for
          Austrian callers only. Same syntax as rewrite match patterns.
        </List.Item>
        <List.Item>Among equal prefixes, the lower priority number is tried first.</List.Item>
      </List>
    </details>
  );
}
