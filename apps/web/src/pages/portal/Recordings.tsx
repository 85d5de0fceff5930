import { Stack, Text, Title } from '@mantine/core';
import { RecordingTable } from '../../components/RecordingTable.tsx';

/** Call recordings, in the portal and (same page) in the admin. */
export function RecordingsPage() {
  return (
    <Stack>
      <Title order={1}>Call recordings</Title>
      <Text size="sm">
        Stereo files: the caller on the left channel, the callee on the right. Recordings are deleted
        automatically after the retention period your provider set.
      </Text>
      <RecordingTable />
    </Stack>
  );
}
