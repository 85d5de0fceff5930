import { Button, Card, Checkbox, Group, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';

/**
 * A customer's postpaid and wholesale settings (credit limit, carrier, margin protection) and its
 * IP-authenticated trunks, for its provider (docs/billing.md).
 */

type Margin = 'default' | 'on' | 'off';

function Settings({ customerId }: { customerId: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const path = { id: customerId };
  const current = useQuery({
    queryKey: ['billing-settings', customerId],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/customers/{id}/billing-settings', { params: { path } })),
  });
  const [limit, setLimit] = useState('');
  const [carrier, setCarrier] = useState(false);
  const [margin, setMargin] = useState<Margin>('default');
  const [taxRate, setTaxRate] = useState('');
  const [taxId, setTaxId] = useState('');
  useEffect(() => {
    const s = current.data;
    if (!s) return;
    setLimit(s.creditLimit ?? '');
    setCarrier(s.carrier);
    setMargin(s.marginProtection === null ? 'default' : s.marginProtection ? 'on' : 'off');
    setTaxRate(s.taxRate ?? '');
    setTaxId(s.taxId ?? '');
  }, [current.data]);
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PUT('/api/v1/customers/{id}/billing-settings', {
          params: { path },
          body: {
            creditLimit: limit.trim() === '' ? null : limit.trim(),
            carrier,
            marginProtection: margin === 'default' ? null : margin === 'on',
            peeringGroupIds: current.data?.peeringGroupIds ?? [],
            // Empty: the issuer's default rate; no tax id.
            taxRate: taxRate.trim() === '' ? null : taxRate.trim(),
            taxId: taxId.trim() === '' ? null : taxId.trim(),
          },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['billing-settings', customerId] }),
  });
  return (
    <Card withBorder>
      <form
        aria-label="Billing settings"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Stack>
          <Title order={2} size="h4">
            Postpaid, carrier and tax settings
          </Title>
          <FormAlert error={save.error ?? current.error} />
          <Group align="flex-end">
            <TextInput
              label="Monthly credit limit"
              placeholder="no limit"
              value={limit}
              onChange={(e) => setLimit(e.currentTarget.value)}
            />
            <Checkbox
              label="Carrier customer"
              checked={carrier}
              onChange={(e) => setCarrier(e.currentTarget.checked)}
            />
            <NativeSelect
              label="Margin protection"
              value={margin}
              onChange={(e) => setMargin(e.currentTarget.value as Margin)}
              data={[
                { value: 'default', label: 'Default (on for carriers)' },
                { value: 'on', label: 'On' },
                { value: 'off', label: 'Off' },
              ]}
            />
            <TextInput
              label="Tax rate (%)"
              placeholder="the issuer's default"
              value={taxRate}
              onChange={(e) => setTaxRate(e.currentTarget.value)}
            />
            <TextInput label="Tax id (VAT)" value={taxId} onChange={(e) => setTaxId(e.currentTarget.value)} />
            <Button type="submit" loading={save.isPending}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

function Trunks({ customerId }: { customerId: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const trunks = useQuery({
    queryKey: ['customer-trunks', customerId],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/customer-trunks', { params: { query: { customerId } } })),
  });
  const remove = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.DELETE('/api/v1/customer-trunks/{id}', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['customer-trunks', customerId] }),
  });
  return (
    <Stack>
      <FormAlert error={remove.error} />
      <DataTable
        caption="IP-authenticated trunks"
        rows={trunks.data?.items}
        error={trunks.error}
        loading={trunks.isLoading}
        empty="No IP-authenticated trunks (add them over the API: POST /api/v1/customer-trunks)."
        columns={[
          { header: 'Name', cell: (t) => t.name },
          { header: 'Trusted sources', cell: (t) => t.trustedSources.join(', ') },
          { header: 'Enabled', cell: (t) => (t.enabled ? 'yes' : 'no') },
          {
            header: '',
            cell: (t) => (
              <Button size="xs" variant="subtle" color="red" onClick={() => remove.mutate(t.id)}>
                Remove {t.name}
              </Button>
            ),
          },
        ]}
      />
    </Stack>
  );
}

export function WholesalePage() {
  const api = useApi();
  const customers = useQuery({
    queryKey: ['customers', 'all'],
    queryFn: async () => unwrap(await api.GET('/api/v1/customers', { params: { query: { perPage: 500 } } })),
  });
  const [customerId, setCustomerId] = useState('');
  const items = customers.data?.items ?? [];
  const chosen = customerId || items[0]?.id || '';
  return (
    <Stack>
      <Title order={1}>Postpaid and carriers</Title>
      <FormAlert error={customers.error} />
      <NativeSelect
        label="Customer"
        value={chosen}
        onChange={(e) => setCustomerId(e.currentTarget.value)}
        data={items.map((c) => ({ value: c.id, label: c.name }))}
      />
      {chosen && <Settings key={chosen} customerId={chosen} />}
      {chosen && <Trunks customerId={chosen} />}
    </Stack>
  );
}
