import { Stack, Title } from '@mantine/core';
import { useSession } from '../../auth.tsx';
import { GenerateInvoices, InvoiceList } from '../../components/InvoiceList.tsx';

/** Invoices of the customers the user provides for; the operator can run a month. */
export function AdminInvoicesPage() {
  const operator = useSession().me?.role === 'operator';
  return (
    <Stack>
      <Title order={1}>Invoices</Title>
      {operator && <GenerateInvoices />}
      <InvoiceList />
    </Stack>
  );
}
