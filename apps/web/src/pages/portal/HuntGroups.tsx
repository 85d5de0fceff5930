import { Stack, Text, Title } from '@mantine/core';
import { HuntGroupEditor } from '../../components/HuntGroupEditor.tsx';

/** Hunt groups: the admin page of operators and resellers and the customer's own portal page. */
export function HuntGroupsPage() {
  return (
    <Stack>
      <Title order={1}>Hunt groups</Title>
      <Text c="dimmed">
        A hunt group is an address callers dial that rings a list of phones: all at once, one after the other,
        or round robin. Busy and unregistered phones are skipped.
      </Text>
      <HuntGroupEditor />
    </Stack>
  );
}
