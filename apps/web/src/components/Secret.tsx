import { ActionIcon, Code, CopyButton, Group, Tooltip } from '@mantine/core';

/** A value the operator passes on (user name, domain, a password shown once), with a copy button. */
export function Copyable({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <Group gap={4} wrap="nowrap" component="span">
      <Code data-testid={testId}>{value}</Code>
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? 'Copied' : `Copy ${label}`} withArrow>
            <ActionIcon
              size="sm"
              variant="subtle"
              color={copied ? 'teal' : 'gray'}
              onClick={copy}
              aria-label={`Copy ${label}`}
            >
              {copied ? '✓' : '⧉'}
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  );
}
