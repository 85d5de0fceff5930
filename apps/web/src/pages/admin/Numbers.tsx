import { zodResolver } from '@hookform/resolvers/zod';
import { Button, Card, Group, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';

export const NumberForm = z.object({
  subscriberId: z.string().min(1, 'Choose a subscriber'),
  countryCode: z.string().regex(/^[1-9]\d{0,3}$/, 'Country code digits, e.g. 49'),
  areaCode: z.string().regex(/^\d{0,6}$/, 'Digits only'),
  subscriberNumber: z.string().regex(/^\d{1,14}$/, 'Digits only'),
});

/** PSTN numbers (DIDs) and the subscriber each one rings. */
export function NumbersPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const numbers = useQuery({
    queryKey: ['numbers'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/numbers', { params: { query: { perPage: 500, sort: 'e164' } } })),
  });
  const subscribers = useQuery({
    queryKey: ['subscribers', 'for-numbers'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/subscribers', { params: { query: { perPage: 500 } } })),
  });
  const form = useForm({
    resolver: zodResolver(NumberForm),
    defaultValues: { subscriberId: '', countryCode: '', areaCode: '', subscriberNumber: '' },
  });
  const create = useMutation({
    mutationFn: async (v: z.infer<typeof NumberForm>) =>
      unwrap(
        await api.POST('/api/v1/numbers', {
          body: {
            subscriberId: v.subscriberId,
            countryCode: v.countryCode,
            subscriberNumber: v.subscriberNumber,
            ...(v.areaCode ? { areaCode: v.areaCode } : {}),
          },
        }),
      ),
    onSuccess: () => {
      form.reset();
      return queryClient.invalidateQueries({ queryKey: ['numbers'] });
    },
  });
  const uriOf = new Map((subscribers.data?.items ?? []).map((s) => [s.id, s.sipUri]));
  const err = form.formState.errors;
  return (
    <Stack>
      <Title order={1}>Numbers</Title>
      <Card withBorder>
        <form onSubmit={form.handleSubmit((v) => create.mutate(v))} noValidate aria-label="New number">
          <Stack>
            <FormAlert error={create.error} />
            <Group align="flex-end">
              <NativeSelect
                label="Subscriber"
                {...form.register('subscriberId')}
                error={err.subscriberId?.message}
                data={[
                  { value: '', label: 'Choose…' },
                  ...(subscribers.data?.items ?? []).map((s) => ({ value: s.id, label: s.sipUri })),
                ]}
              />
              <TextInput
                label="Country code"
                {...form.register('countryCode')}
                error={err.countryCode?.message}
                w={120}
              />
              <TextInput
                label="Area code"
                {...form.register('areaCode')}
                error={err.areaCode?.message}
                w={120}
              />
              <TextInput
                label="Subscriber number"
                {...form.register('subscriberNumber')}
                error={err.subscriberNumber?.message}
              />
              <Button type="submit" loading={create.isPending}>
                Add number
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      <DataTable
        caption="Numbers"
        rows={numbers.data?.items}
        error={numbers.error}
        empty="No numbers."
        columns={[
          { header: 'Number', cell: (r) => `+${r.e164.replace(/^\+/, '')}` },
          { header: 'Subscriber', cell: (r) => uriOf.get(r.subscriberId) ?? r.subscriberId },
          { header: 'Primary', cell: (r) => (r.isPrimary ? 'yes' : 'no') },
        ]}
      />
    </Stack>
  );
}
