import { Button, Group, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type ResponseOf, unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';

import { FormAlert } from './FormAlert.tsx';

type Credit = ResponseOf<'/api/v1/customers/{customerId}/credit', 'get'>;

/** '' in a field means "none" (null); a number field sends a number. */
const orNull = (v: string) => (v.trim() === '' ? null : v.trim());
const intOrNull = (v: string) => (v.trim() === '' ? null : Number(v));

/**
 * A customer's fraud limits (docs/billing.md, "Fraud limits"), set by its provider: what a call to a
 * high-risk destination does, the burst alert, and the daily and monthly spend limits.
 */
export function CustomerFraudSettings({ customerId }: { customerId: string }) {
  const api = useApi();
  const credit = useQuery({
    queryKey: ['credit', customerId],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/customers/{customerId}/credit', { params: { path: { customerId } } })),
  });
  if (!credit.data) return null;
  // Keyed by the saved values: the form starts again from what the API answered after a save.
  return <CustomerFraudForm key={JSON.stringify(credit.data)} customerId={customerId} credit={credit.data} />;
}

function CustomerFraudForm({ customerId, credit }: { customerId: string; credit: Credit }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [action, setAction] = useState<'alert' | 'block'>(credit.highRiskAction);
  const [burstCalls, setBurstCalls] = useState(credit.burstCalls?.toString() ?? '');
  const [burstSeconds, setBurstSeconds] = useState(credit.burstSeconds?.toString() ?? '');
  const [daily, setDaily] = useState(credit.dailyLimit ?? '');
  const [monthly, setMonthly] = useState(credit.monthlyLimit ?? '');
  const [warn, setWarn] = useState(String(credit.limitWarnPercent));
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PATCH('/api/v1/customers/{customerId}/credit', {
          params: { path: { customerId } },
          body: {
            highRiskAction: action,
            burstCalls: intOrNull(burstCalls),
            burstSeconds: intOrNull(burstSeconds),
            dailyLimit: orNull(daily),
            monthlyLimit: orNull(monthly),
            limitWarnPercent: Number(warn),
          },
        }),
      ),
    onSuccess: (data) => queryClient.setQueryData(['credit', customerId], data),
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Stack>
        <Title order={2} size="h3">
          Fraud limits of the customer
        </Title>
        <NativeSelect
          label="Calls to high-risk destinations"
          value={action}
          onChange={(e) => setAction(e.currentTarget.value === 'block' ? 'block' : 'alert')}
          data={[
            { value: 'alert', label: 'Alert and let through' },
            { value: 'block', label: 'Alert and refuse' },
          ]}
        />
        <Group align="end">
          <TextInput
            label="Burst alert above (calls)"
            placeholder="off"
            value={burstCalls}
            onChange={(e) => setBurstCalls(e.currentTarget.value)}
          />
          <TextInput
            label="Burst window (seconds)"
            placeholder="off"
            value={burstSeconds}
            onChange={(e) => setBurstSeconds(e.currentTarget.value)}
          />
        </Group>
        <Group align="end">
          <TextInput
            label="Daily spend limit"
            placeholder="none"
            value={daily}
            onChange={(e) => setDaily(e.currentTarget.value)}
          />
          <TextInput
            label="Monthly spend limit"
            placeholder="none"
            value={monthly}
            onChange={(e) => setMonthly(e.currentTarget.value)}
          />
          <TextInput label="Warn at (%)" value={warn} onChange={(e) => setWarn(e.currentTarget.value)} />
        </Group>
        <Group>
          <Button type="submit" loading={save.isPending}>
            Save fraud limits
          </Button>
        </Group>
        <FormAlert error={save.error} />
      </Stack>
    </form>
  );
}

/** A subscriber's own daily and monthly spend limits, picked among the customer's subscribers. */
export function SubscriberSpendLimit({ customerId }: { customerId: string }) {
  const api = useApi();
  const [subscriberId, setSubscriberId] = useState<string | null>(null);
  const subscribers = useQuery({
    queryKey: ['subscribers', 'for-spend-limits', customerId],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/subscribers', { params: { query: { perPage: 500, customerId } } })),
  });
  const limit = useQuery({
    queryKey: ['spend-limit', subscriberId ?? ''],
    enabled: subscriberId !== null,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/subscribers/{subscriberId}/spend-limit', {
          params: { path: { subscriberId: subscriberId! } },
        }),
      ),
  });
  return (
    <Stack>
      <NativeSelect
        label="Subscriber"
        value={subscriberId ?? ''}
        onChange={(e) => setSubscriberId(e.currentTarget.value || null)}
        data={[
          { value: '', label: 'Pick a subscriber' },
          ...(subscribers.data?.items ?? []).map((s) => ({ value: s.id, label: s.username })),
        ]}
      />
      {subscriberId && limit.data ? (
        <SubscriberLimitForm
          key={JSON.stringify(limit.data)}
          subscriberId={subscriberId}
          current={limit.data}
        />
      ) : null}
    </Stack>
  );
}

function SubscriberLimitForm({
  subscriberId,
  current,
}: {
  subscriberId: string;
  current: ResponseOf<'/api/v1/subscribers/{subscriberId}/spend-limit', 'get'>;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [daily, setDaily] = useState(current.dailyLimit ?? '');
  const [monthly, setMonthly] = useState(current.monthlyLimit ?? '');
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PATCH('/api/v1/subscribers/{subscriberId}/spend-limit', {
          params: { path: { subscriberId } },
          body: { dailyLimit: orNull(daily), monthlyLimit: orNull(monthly) },
        }),
      ),
    onSuccess: (data) => queryClient.setQueryData(['spend-limit', subscriberId], data),
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Group align="end">
        <TextInput
          label="Subscriber's daily limit"
          placeholder="none"
          value={daily}
          onChange={(e) => setDaily(e.currentTarget.value)}
        />
        <TextInput
          label="Subscriber's monthly limit"
          placeholder="none"
          value={monthly}
          onChange={(e) => setMonthly(e.currentTarget.value)}
        />
        <Button type="submit" loading={save.isPending}>
          Save subscriber limits
        </Button>
      </Group>
      <FormAlert error={save.error} />
    </form>
  );
}
