import { Stack, Title } from '@mantine/core';
import { useSession } from '../../auth.tsx';
import { CreditNoteList, IssueCreditNote } from '../../components/CreditNotes.tsx';
import { GenerateInvoices, InvoiceList } from '../../components/InvoiceList.tsx';

/** Invoices and credit notes of the customers the user provides for; the operator can run a month. */
export function AdminInvoicesPage() {
  const operator = useSession().me?.role === 'operator';
  return (
    <Stack>
      <Title order={1}>Invoices</Title>
      {operator && <GenerateInvoices />}
      <InvoiceList />
      <IssueCreditNote />
      <CreditNoteList />
    </Stack>
  );
}
