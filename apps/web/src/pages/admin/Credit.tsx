import { Button, Group, Select, Stack, Switch, Table, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { CreditPanel } from '../../components/CreditPanel.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { formatTime } from '../../components/format.ts';

/**
 * Prepaid credit for the operator and resellers: a customer's balance and history, topping it up,
 * making it prepaid; issuing vouchers (their codes are shown once, here) and the list of vouchers.
 */
export function CreditAdminPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [customerId, setCustomerId] = useState<string | null>(null);
  const [amount, setAmount] = useState('');
  const [voucherAmount, setVoucherAmount] = useState('');
  const [issued, setIssued] = useState<string[]>([]);
  const customers = useQuery({
    queryKey: ['customers', 'for-credit'],
    queryFn: async () => unwrap(await api.GET('/api/v1/customers', { params: { query: { perPage: 500 } } })),
  });
  const credit = useQuery({
    queryKey: ['credit', customerId ?? ''],
    enabled: customerId !== null,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/customers/{customerId}/credit', {
          params: { path: { customerId: customerId! } },
        }),
      ),
  });
  const vouchers = useQuery({
    queryKey: ['vouchers'],
    queryFn: async () => unwrap(await api.GET('/api/v1/vouchers')),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['credit', customerId ?? ''] });
  const topUp = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/api/v1/customers/{customerId}/credit/top-ups', {
          params: { path: { customerId: customerId! } },
          body: { amount },
        }),
      ),
    onSuccess: () => {
      setAmount('');
      return refresh();
    },
  });
  const prepaid = useMutation({
    mutationFn: async (value: boolean) =>
      unwrap(
        await api.PATCH('/api/v1/customers/{customerId}/credit', {
          params: { path: { customerId: customerId! } },
          body: { prepaid: value },
        }),
      ),
    onSuccess: refresh,
  });
  const issue = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST('/api/v1/vouchers', { body: { amount: voucherAmount, count: 1 } })),
    onSuccess: (data) => {
      setIssued(data.items.map((v) => v.code));
      return queryClient.invalidateQueries({ queryKey: ['vouchers'] });
    },
  });
  return (
    <Stack>
      <Title order={1}>Credit</Title>
      <Select
        label="Customer"
        searchable
        value={customerId}
        onChange={setCustomerId}
        data={(customers.data?.items ?? []).map((c) => ({ value: c.id, label: c.name }))}
      />
      {customerId ? (
        <>
          <Switch
            label="Prepaid: calls to the phone network are limited by the balance"
            checked={credit.data?.prepaid ?? false}
            onChange={(e) => prepaid.mutate(e.currentTarget.checked)}
          />
          <form
            onSubmit={(e) => {
              e.preventDefault();
              topUp.mutate();
            }}
          >
            <Group align="end">
              <TextInput
                label="Top up by"
                placeholder="10.00"
                value={amount}
                onChange={(e) => setAmount(e.currentTarget.value)}
              />
              <Button type="submit" loading={topUp.isPending}>
                Top up
              </Button>
            </Group>
          </form>
          <FormAlert error={topUp.error ?? prepaid.error} />
          <CreditPanel customerId={customerId} />
        </>
      ) : null}
      <Title order={2} size="h3">
        Vouchers
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          issue.mutate();
        }}
      >
        <Group align="end">
          <TextInput
            label="Voucher worth"
            placeholder="5.00"
            value={voucherAmount}
            onChange={(e) => setVoucherAmount(e.currentTarget.value)}
          />
          <Button type="submit" loading={issue.isPending}>
            Issue voucher
          </Button>
        </Group>
      </form>
      <FormAlert error={issue.error} />
      {issued.length > 0 ? (
        <TextInput label="New code (shown only now)" readOnly value={issued.join(' ')} />
      ) : null}
      <Table aria-label="Vouchers">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Code ends</Table.Th>
            <Table.Th>Worth</Table.Th>
            <Table.Th>Issued</Table.Th>
            <Table.Th>Redeemed</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(vouchers.data?.items ?? []).map((v) => (
            <Table.Tr key={v.id}>
              <Table.Td>…{v.codeHint}</Table.Td>
              <Table.Td>{v.amount}</Table.Td>
              <Table.Td>{formatTime(String(v.createdAt))}</Table.Td>
              <Table.Td>{v.redeemedAt ? formatTime(String(v.redeemedAt)) : ''}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
