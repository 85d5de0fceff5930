import { Stack, Title } from '@mantine/core';
import { CdrTable } from '../../components/CdrTable.tsx';

export function CdrsPage() {
  return (
    <Stack>
      <Title order={1}>Call records</Title>
      <CdrTable />
    </Stack>
  );
}
