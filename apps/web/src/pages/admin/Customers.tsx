import { zodResolver } from '@hookform/resolvers/zod';
import { Button, Card, Group, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { EditButton, EditPanel } from '../../components/EditPanel.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import {
  countField,
  fieldText,
  numberOrNull,
  STATUSES,
  Status,
  textField,
  textOrNull,
} from '../../components/fields.ts';
import { formatTime } from '../../components/format.ts';

type Customer = ItemOf<'/api/v1/customers'>;

const CustomerForm = z.object({
  name: textField('createCustomer', 'name', { required: 'Enter a name' }),
  externalId: textField('createCustomer', 'externalId'),
});

/** What an operator or reseller may change on a customer (contract): its name, state and limits. */
export const CustomerEditForm = z.object({
  name: textField('updateCustomer', 'name', { required: 'Enter a name' }),
  externalId: textField('updateCustomer', 'externalId'),
  status: Status,
  maxConcurrentCalls: countField('updateCustomer', 'maxConcurrentCalls'),
  maxSubscribers: countField('updateCustomer', 'maxSubscribers'),
  maxCallDuration: countField('updateCustomer', 'maxCallDuration'),
});

function CustomerEditor({ customer, onDone }: { customer: Customer; onDone: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useForm({
    resolver: zodResolver(CustomerEditForm),
    defaultValues: {
      name: customer.name,
      externalId: fieldText(customer.externalId),
      status: customer.status,
      maxConcurrentCalls: fieldText(customer.maxConcurrentCalls),
      maxSubscribers: fieldText(customer.maxSubscribers),
      maxCallDuration: fieldText(customer.maxCallDuration),
    },
  });
  const save = useMutation({
    mutationFn: async (v: z.infer<typeof CustomerEditForm>) =>
      unwrap(
        await api.PATCH('/api/v1/customers/{id}', {
          params: { path: { id: customer.id } },
          body: {
            name: v.name,
            externalId: textOrNull(v.externalId),
            status: v.status,
            maxConcurrentCalls: numberOrNull(v.maxConcurrentCalls),
            maxSubscribers: numberOrNull(v.maxSubscribers),
            maxCallDuration: numberOrNull(v.maxCallDuration),
          },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['customers'] });
      onDone();
    },
  });
  const err = form.formState.errors;
  return (
    <EditPanel
      title={`Edit customer ${customer.name}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={onDone}
      error={save.error}
      saving={save.isPending}
    >
      <TextInput label="Name" {...form.register('name')} error={err.name?.message} />
      <TextInput label="External ID" {...form.register('externalId')} error={err.externalId?.message} />
      <NativeSelect label="Status" {...form.register('status')} data={[...STATUSES]} />
      <TextInput
        label="Max. concurrent calls"
        inputMode="numeric"
        {...form.register('maxConcurrentCalls')}
        error={err.maxConcurrentCalls?.message}
      />
      <TextInput
        label="Max. subscribers"
        inputMode="numeric"
        {...form.register('maxSubscribers')}
        error={err.maxSubscribers?.message}
      />
      <TextInput
        label="Max. call duration (s)"
        inputMode="numeric"
        {...form.register('maxCallDuration')}
        error={err.maxCallDuration?.message}
      />
    </EditPanel>
  );
}

export function CustomersPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const customers = useQuery({
    queryKey: ['customers'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/customers', { params: { query: { perPage: 500, sort: 'name' } } })),
  });
  const [editing, setEditing] = useState<Customer | null>(null);
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
      {editing && <CustomerEditor key={editing.id} customer={editing} onDone={() => setEditing(null)} />}
      <DataTable
        caption="Customers"
        rows={customers.data?.items}
        error={customers.error}
        columns={[
          { header: 'Name', cell: (r) => r.name },
          { header: 'Status', cell: (r) => r.status },
          { header: 'External ID', cell: (r) => r.externalId ?? '–' },
          { header: 'Created', cell: (r) => formatTime(r.createdAt) },
          { header: 'Actions', cell: (r) => <EditButton what={r.name} onClick={() => setEditing(r)} /> },
        ]}
      />
    </Stack>
  );
}
