import { NativeSelect, Stack, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { useSession } from '../../auth.tsx';
import { CreditEvents } from '../../components/CreditPanel.tsx';
import { CustomerFraudSettings, SubscriberSpendLimit } from '../../components/FraudSettings.tsx';
import { HighRiskPrefixes } from '../../components/HighRiskPrefixes.tsx';

/**
 * Fraud limits for the operator and resellers (docs/billing.md, "Fraud limits"): the high-risk
 * destination list (the operator edits it), and per customer what a call to one does, the burst alert,
 * the spend limits of the customer and of its subscribers, and its alerts.
 */
export function FraudAdminPage() {
  const api = useApi();
  const operator = useSession().me?.role === 'operator';
  const [customerId, setCustomerId] = useState<string | null>(null);
  const customers = useQuery({
    queryKey: ['customers', 'for-fraud'],
    queryFn: async () => unwrap(await api.GET('/api/v1/customers', { params: { query: { perPage: 500 } } })),
  });
  return (
    <Stack>
      <Title order={1}>Fraud limits</Title>
      <HighRiskPrefixes editable={operator} />
      <NativeSelect
        label="Customer"
        value={customerId ?? ''}
        onChange={(e) => setCustomerId(e.currentTarget.value || null)}
        data={[
          { value: '', label: 'Pick a customer' },
          ...(customers.data?.items ?? []).map((c) => ({ value: c.id, label: c.name })),
        ]}
      />
      {customerId ? (
        <>
          <CustomerFraudSettings customerId={customerId} />
          <SubscriberSpendLimit customerId={customerId} />
          <CreditEvents customerId={customerId} />
        </>
      ) : null}
    </Stack>
  );
}
