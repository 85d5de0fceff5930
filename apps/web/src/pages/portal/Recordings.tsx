import { Stack, Text, Title } from '@mantine/core';
import { useSession } from '../../auth.tsx';
import { RecordingSettings } from '../../components/RecordingSettings.tsx';
import { RecordingTable } from '../../components/RecordingTable.tsx';

/** Call recordings, in the portal and (same page) in the admin. */
export function RecordingsPage() {
  // A customer's own settings; operators and resellers set their customers' on the Customers page (editor).
  const customerId = useSession().me?.customerId;
  return (
    <Stack>
      <Title order={1}>Call recordings</Title>
      <Text size="sm">
        Stereo files: the caller on the left channel, the callee on the right. Recordings are deleted
        automatically after the retention period your provider set.
      </Text>
      {customerId && <RecordingSettings customerId={customerId} />}
      <RecordingTable />
    </Stack>
  );
}
