import { Stack, Title } from '@mantine/core';
import { CdrTable } from '../../components/CdrTable.tsx';

export function HistoryPage() {
  return (
    <Stack>
      <Title order={1}>Call history</Title>
      <CdrTable />
    </Stack>
  );
}
