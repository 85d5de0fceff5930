import { zodResolver } from '@hookform/resolvers/zod';
import { Button, Card, Group, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { formatTime } from '../../components/format.ts';

const CustomerForm = z.object({
  name: z.string().trim().min(1, 'Enter a name'),
  externalId: z.string().optional(),
});

export function CustomersPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const customers = useQuery({
    queryKey: ['customers'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/customers', { params: { query: { perPage: 500, sort: 'name' } } })),
  });
  const form = useForm({ resolver: zodResolver(CustomerForm), defaultValues: { name: '', externalId: '' } });
  const create = useMutation({
    mutationFn: async (values: z.infer<typeof CustomerForm>) =>
      unwrap(
        await api.POST('/api/v1/customers', {
          body: { name: values.name, externalId: values.externalId || null },
        }),
      ),
    onSuccess: () => {
      form.reset();
      return queryClient.invalidateQueries({ queryKey: ['customers'] });
    },
  });
  return (
    <Stack>
      <Title order={1}>Customers</Title>
      <Card withBorder>
        <form onSubmit={form.handleSubmit((v) => create.mutate(v))} noValidate aria-label="New customer">
          <Stack>
            <Title order={2} size="h4">
              New customer
            </Title>
            <FormAlert error={create.error} />
            <Group align="flex-end">
              <TextInput
                label="Name"
                {...form.register('name')}
                error={form.formState.errors.name?.message}
              />
              <TextInput label="External ID" {...form.register('externalId')} />
              <Button type="submit" loading={create.isPending}>
                Create customer
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      <DataTable
        caption="Customers"
        rows={customers.data?.items}
        error={customers.error}
        columns={[
          { header: 'Name', cell: (r) => r.name },
          { header: 'Status', cell: (r) => r.status },
          { header: 'External ID', cell: (r) => r.externalId ?? '–' },
          { header: 'Created', cell: (r) => formatTime(r.createdAt) },
        ]}
      />
    </Stack>
  );
}
