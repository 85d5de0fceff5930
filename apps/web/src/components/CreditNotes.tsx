import { Button, Card, Checkbox, Group, Select, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { DataTable } from './DataTable.tsx';
import { FormAlert } from './FormAlert.tsx';
import { formatTime } from './format.ts';

/** The credit notes the signed-in user may see (the API scopes them as invoices), each with its PDF. */
export function CreditNoteList() {
  const api = useApi();
  const notes = useQuery({
    queryKey: ['credit-notes'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/credit-notes', { params: { query: { perPage: 100 } } })),
  });
  return (
    <DataTable
      caption="Credit notes"
      rows={notes.data?.items}
      error={notes.error}
      loading={notes.isLoading}
      empty="No credit notes."
      columns={[
        { header: 'Number', cell: (n) => n.number },
        { header: 'Invoice', cell: (n) => n.invoiceNumber },
        { header: 'Reason', cell: (n) => n.reason },
        { header: 'Credited', cell: (n) => `${n.total} ${n.currency}` },
        { header: 'Balance', cell: (n) => (n.balanceCredited ? 'credited' : '') },
        { header: 'Issued', cell: (n) => formatTime(n.createdAt) },
        {
          header: 'Document',
          cell: (n) => (
            <a href={`/api/v1/credit-notes/${n.id}/pdf`} download>
              PDF
            </a>
          ),
        },
      ]}
    />
  );
}

/** Operator or reseller: credit an invoice by an amount (tax included) or in full, with a reason. */
export function IssueCreditNote() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [invoiceId, setInvoiceId] = useState<string | null>(null);
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [toBalance, setToBalance] = useState(false);
  const invoices = useQuery({
    queryKey: ['invoices'],
    queryFn: async () => unwrap(await api.GET('/api/v1/invoices', { params: { query: { perPage: 100 } } })),
  });
  const issue = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/api/v1/invoices/{id}/credit-notes', {
          params: { path: { id: invoiceId ?? '' } },
          body: {
            ...(amount.trim() === '' ? { full: true } : { amount: amount.trim() }),
            reason,
            creditBalance: toBalance,
          },
        }),
      ),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ['credit-notes'] }),
        queryClient.invalidateQueries({ queryKey: ['invoices'] }),
      ]),
  });
  return (
    <Card withBorder>
      <form
        aria-label="Issue a credit note"
        onSubmit={(e) => {
          e.preventDefault();
          issue.mutate();
        }}
      >
        <Stack>
          <Title order={2} size="h4">
            Issue a credit note
          </Title>
          <FormAlert error={issue.error} />
          <Group align="flex-end">
            <Select
              label="Invoice"
              searchable
              value={invoiceId}
              onChange={setInvoiceId}
              data={(invoices.data?.items ?? []).map((i) => ({
                value: i.id,
                label: `${i.number} (${i.total} ${i.currency}, credited ${i.credited})`,
              }))}
            />
            <TextInput
              label="Amount (tax included)"
              placeholder="empty: the rest of the invoice"
              value={amount}
              onChange={(e) => setAmount(e.currentTarget.value)}
            />
            <TextInput
              label="Reason"
              required
              value={reason}
              onChange={(e) => setReason(e.currentTarget.value)}
            />
            <Checkbox
              label="Credit the prepaid balance"
              checked={toBalance}
              onChange={(e) => setToBalance(e.currentTarget.checked)}
            />
            <Button type="submit" loading={issue.isPending} disabled={!invoiceId}>
              Issue
            </Button>
          </Group>
          {issue.data && (
            <span>
              {issue.data.number}: {issue.data.total} {issue.data.currency} credited
            </span>
          )}
        </Stack>
      </form>
    </Card>
  );
}
