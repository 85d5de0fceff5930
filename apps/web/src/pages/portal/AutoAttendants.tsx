import { Stack, Text, Title } from '@mantine/core';
import { AutoAttendantEditor } from '../../components/AutoAttendantEditor.tsx';

/** Auto-attendants: the admin page of operators and resellers and the customer's own portal page. */
export function AutoAttendantsPage() {
  return (
    <Stack>
      <Title order={1}>Auto-attendants</Title>
      <Text c="dimmed">
        An auto-attendant is an address callers dial that plays a greeting and sends the call on by the digit
        the caller presses: to a hunt group, a phone, a voicemail box or one of your numbers. Callers who
        press nothing go to the timeout destination, typically the operator. A number of yours can point at an
        attendant, so callers from outside reach it too.
      </Text>
      <AutoAttendantEditor />
    </Stack>
  );
}
