import { Stack, Title } from '@mantine/core';
import { InvoiceList } from '../../components/InvoiceList.tsx';

export function InvoicesPage() {
  return (
    <Stack>
      <Title order={1}>Invoices</Title>
      <InvoiceList />
    </Stack>
  );
}
