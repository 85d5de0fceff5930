import { Button, Card, Group, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { DataTable } from './DataTable.tsx';
import { FormAlert } from './FormAlert.tsx';
import { formatTime } from './format.ts';

const day = (iso: string) => iso.slice(0, 10);

/** The invoices the signed-in user may see (the API scopes them), each with its PDF. */
export function InvoiceList() {
  const api = useApi();
  const invoices = useQuery({
    queryKey: ['invoices'],
    queryFn: async () => unwrap(await api.GET('/api/v1/invoices', { params: { query: { perPage: 100 } } })),
  });
  return (
    <DataTable
      caption="Invoices"
      rows={invoices.data?.items}
      error={invoices.error}
      loading={invoices.isLoading}
      empty="No invoices yet."
      columns={[
        { header: 'Number', cell: (i) => i.number },
        { header: 'Period', cell: (i) => `${day(String(i.periodStart))} – ${day(String(i.periodEnd))}` },
        { header: 'Net', cell: (i) => (i.net === null ? '' : i.net) },
        {
          header: 'Tax',
          cell: (i) => i.taxes.map((t) => `${t.amount} (${t.rate} %)`).join(', '),
        },
        { header: 'Total', cell: (i) => `${i.total} ${i.currency}` },
        { header: 'Credited', cell: (i) => (i.credited === '0.000000' ? '' : i.credited) },
        { header: 'Issued', cell: (i) => formatTime(i.createdAt) },
        {
          header: 'Document',
          cell: (i) => (
            <a href={`/api/v1/invoices/${i.id}/pdf`} download>
              PDF
            </a>
          ),
        },
      ]}
    />
  );
}

/** Operator: create a month's invoices now (the billing component does it every month by itself). */
export function GenerateInvoices() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [month, setMonth] = useState('');
  const run = useMutation({
    mutationFn: async () => unwrap(await api.POST('/api/v1/invoices/generate', { body: { month } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['invoices'] }),
  });
  return (
    <Card withBorder>
      <form
        aria-label="Generate invoices"
        onSubmit={(e) => {
          e.preventDefault();
          run.mutate();
        }}
      >
        <Stack>
          <Title order={2} size="h4">
            Generate invoices
          </Title>
          <FormAlert error={run.error} />
          <Group align="flex-end">
            <TextInput
              label="Month"
              placeholder="2026-11"
              value={month}
              onChange={(e) => setMonth(e.currentTarget.value)}
            />
            <Button type="submit" loading={run.isPending}>
              Generate
            </Button>
          </Group>
          {run.data && (
            <span>
              {run.data.created.length} created, {run.data.skipped} skipped
            </span>
          )}
        </Stack>
      </form>
    </Card>
  );
}
