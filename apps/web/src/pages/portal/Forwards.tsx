import { Stack, Title } from '@mantine/core';
import { ForwardEditor } from '../../components/ForwardEditor.tsx';

export function ForwardsPage() {
  return (
    <Stack>
      <Title order={1}>Call forwards</Title>
      <ForwardEditor />
    </Stack>
  );
}
