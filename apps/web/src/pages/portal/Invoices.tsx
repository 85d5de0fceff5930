import { Stack, Title } from '@mantine/core';
import { CreditNoteList } from '../../components/CreditNotes.tsx';
import { InvoiceList } from '../../components/InvoiceList.tsx';

export function InvoicesPage() {
  return (
    <Stack>
      <Title order={1}>Invoices</Title>
      <InvoiceList />
      <CreditNoteList />
    </Stack>
  );
}
