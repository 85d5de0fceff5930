import { zodResolver } from '@hookform/resolvers/zod';
import { Button, Card, Group, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type UseFormRegisterReturn, useForm } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { EditButton, EditPanel, useSaveThenClose } from '../../components/EditPanel.tsx';
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
import { ListSearch } from '../../components/ListSearch.tsx';
import { recordOptions, useResellers } from '../../components/options.ts';
import { usePagedList } from '../../components/paging.ts';
import { RecordingSettings } from '../../components/RecordingSettings.tsx';
import { RecordTable } from '../../components/RecordTable.tsx';

type Customer = ItemOf<'/api/v1/customers'>;

const CustomerForm = z.object({
  name: textField('createCustomer', 'name', { required: 'Enter a name' }),
  externalId: textField('createCustomer', 'externalId'),
  resellerId: z.string(),
  status: Status,
  maxConcurrentCalls: countField('createCustomer', 'maxConcurrentCalls'),
  maxSubscribers: countField('createCustomer', 'maxSubscribers'),
  maxCallDuration: countField('createCustomer', 'maxCallDuration'),
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

type LimitName = 'maxConcurrentCalls' | 'maxSubscribers' | 'maxCallDuration';

/** The contract limits of a customer, one set of inputs for the create form and the editor. */
function LimitFields(props: {
  register: (name: LimitName) => UseFormRegisterReturn<LimitName>;
  errors: Partial<Record<LimitName, { message?: string }>>;
}) {
  const { register, errors } = props;
  return (
    <>
      <TextInput
        label="Max. concurrent calls"
        inputMode="numeric"
        {...register('maxConcurrentCalls')}
        error={errors.maxConcurrentCalls?.message}
      />
      <TextInput
        label="Max. subscribers"
        inputMode="numeric"
        {...register('maxSubscribers')}
        error={errors.maxSubscribers?.message}
      />
      <TextInput
        label="Max. call duration (s)"
        inputMode="numeric"
        {...register('maxCallDuration')}
        error={errors.maxCallDuration?.message}
      />
    </>
  );
}

function CustomerEditor({ customer, onDone }: { customer: Customer; onDone: () => void }) {
  const api = useApi();
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
  const save = useSaveThenClose(['customers'], onDone, async (v: z.infer<typeof CustomerEditForm>) =>
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
  );
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
      <LimitFields register={form.register} errors={err} />
    </EditPanel>
  );
}

export function CustomersPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const customers = usePagedList(
    ['customers'],
    async (query) => unwrap(await api.GET('/api/v1/customers', { params: { query } })),
    { defaultSort: 'name', filters: name ? { name } : {} },
  );
  const [editing, setEditing] = useState<Customer | null>(null);
  const resellers = useResellers();
  const form = useForm({
    resolver: zodResolver(CustomerForm),
    defaultValues: {
      name: '',
      externalId: '',
      resellerId: '',
      status: 'active' as const,
      maxConcurrentCalls: '',
      maxSubscribers: '',
      maxCallDuration: '',
    },
  });
  const create = useMutation({
    mutationFn: async (values: z.infer<typeof CustomerForm>) => {
      const limits = {
        maxConcurrentCalls: numberOrNull(values.maxConcurrentCalls),
        maxSubscribers: numberOrNull(values.maxSubscribers),
        maxCallDuration: numberOrNull(values.maxCallDuration),
      };
      return unwrap(
        await api.POST('/api/v1/customers', {
          body: {
            name: values.name,
            externalId: values.externalId || null,
            ...(values.resellerId ? { resellerId: values.resellerId } : {}),
            ...(values.status !== 'active' ? { status: values.status } : {}),
            ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== null)),
          },
        }),
      );
    },
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
              {resellers.operator && (
                <NativeSelect
                  label="Reseller"
                  {...form.register('resellerId')}
                  data={recordOptions(
                    resellers.items,
                    'None yet (the operator’s own)',
                    'None (the operator’s own)',
                  )}
                />
              )}
              <NativeSelect label="Status" {...form.register('status')} data={[...STATUSES]} />
              <LimitFields register={form.register} errors={form.formState.errors} />
              <Button type="submit" loading={create.isPending}>
                Create customer
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      {editing && (
        <>
          <CustomerEditor key={editing.id} customer={editing} onDone={() => setEditing(null)} />
          {/* Its own route (and audit entry), so its own form next to the contract's. */}
          <RecordingSettings key={`recording-${editing.id}`} customerId={editing.id} />
        </>
      )}
      <ListSearch placeholder="name contains" value={name} onChange={setName} />
      <RecordTable
        caption="Customers"
        what="customers"
        basePath="/api/v1/customers"
        name={(r) => r.name}
        list={customers}
        onChanged={() => queryClient.invalidateQueries({ queryKey: ['customers'] })}
        toggle={{ enable: { status: 'active' }, disable: { status: 'locked' } }}
        empty={name ? 'No customer matches.' : 'No customers yet.'}
        columns={[
          { header: 'Name', cell: (r) => r.name, sortKey: 'name' },
          { header: 'Status', cell: (r) => r.status, sortKey: 'status' },
          { header: 'External ID', cell: (r) => r.externalId ?? '–' },
          { header: 'Created', cell: (r) => formatTime(r.createdAt), sortKey: 'createdAt' },
        ]}
        actions={(r) => <EditButton what={r.name} onClick={() => setEditing(r)} />}
      />
    </Stack>
  );
}
