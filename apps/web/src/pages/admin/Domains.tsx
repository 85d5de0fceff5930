import { zodResolver } from '@hookform/resolvers/zod';
import { Button, Card, Checkbox, Group, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';

const DomainForm = z.object({
  name: z.string().trim().min(1, 'Enter the SIP domain'),
  countryCode: z
    .string()
    .regex(/^\d{0,4}$/, 'Digits only')
    .optional(),
  selfSignup: z.boolean(),
});

export function DomainsPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const domains = useQuery({
    queryKey: ['domains'],
    queryFn: async () => unwrap(await api.GET('/api/v1/domains', { params: { query: { perPage: 500 } } })),
  });
  const form = useForm({
    resolver: zodResolver(DomainForm),
    defaultValues: { name: '', countryCode: '', selfSignup: false },
  });
  const create = useMutation({
    mutationFn: async (v: z.infer<typeof DomainForm>) =>
      unwrap(
        await api.POST('/api/v1/domains', {
          body: { name: v.name, countryCode: v.countryCode || null, selfSignup: v.selfSignup },
        }),
      ),
    onSuccess: () => {
      form.reset();
      return queryClient.invalidateQueries({ queryKey: ['domains'] });
    },
  });
  return (
    <Stack>
      <Title order={1}>Domains</Title>
      <Card withBorder>
        <form onSubmit={form.handleSubmit((v) => create.mutate(v))} noValidate aria-label="New domain">
          <Stack>
            <FormAlert error={create.error} />
            <Group align="flex-end">
              <TextInput
                label="Domain name"
                {...form.register('name')}
                error={form.formState.errors.name?.message}
              />
              <TextInput
                label="Country code"
                {...form.register('countryCode')}
                error={form.formState.errors.countryCode?.message}
              />
              <Checkbox label="Customers may sign up" {...form.register('selfSignup')} />
              <Button type="submit" loading={create.isPending}>
                Create domain
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      <DataTable
        caption="Domains"
        rows={domains.data?.items}
        error={domains.error}
        columns={[
          { header: 'Domain', cell: (r) => r.name },
          { header: 'Country code', cell: (r) => r.countryCode ?? '–' },
          { header: 'Sign-up', cell: (r) => (r.selfSignup ? 'open' : 'closed') },
        ]}
      />
    </Stack>
  );
}
