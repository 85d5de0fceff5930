import { zodResolver } from '@hookform/resolvers/zod';
import { Button, Card, Checkbox, Group, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { EditButton, EditPanel } from '../../components/EditPanel.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { fieldText, textField, textOrNull } from '../../components/fields.ts';

type Domain = ItemOf<'/api/v1/domains'>;

const DomainForm = z.object({
  name: textField('createDomain', 'name', { required: 'Enter the SIP domain', invalid: 'A domain name' }),
  countryCode: textField('createDomain', 'countryCode', { invalid: 'Up to 3 digits' }),
  selfSignup: z.boolean(),
});

/**
 * A domain's dialling settings and sign-up switch. Its name is not editable: it is the digest realm, so a
 * rename would invalidate every stored SIP credential of the domain.
 */
export const DomainEditForm = z.object({
  selfSignup: z.boolean(),
  countryCode: textField('updateDomain', 'countryCode', { invalid: 'Up to 3 digits' }),
  nationalPrefix: textField('updateDomain', 'nationalPrefix', { invalid: 'Up to 4 digits' }),
  internationalPrefix: textField('updateDomain', 'internationalPrefix', { invalid: 'Up to 5 digits' }),
  areaCode: textField('updateDomain', 'areaCode', { invalid: 'Up to 6 digits' }),
  rewriteRuleSetId: z.string(),
});

function DomainEditor({ domain, onDone }: { domain: Domain; onDone: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const ruleSets = useQuery({
    queryKey: ['rewrite-rule-sets'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/rewrite-rule-sets', { params: { query: { perPage: 500 } } })),
  });
  const form = useForm({
    resolver: zodResolver(DomainEditForm),
    defaultValues: {
      selfSignup: domain.selfSignup,
      countryCode: fieldText(domain.countryCode),
      nationalPrefix: fieldText(domain.nationalPrefix),
      internationalPrefix: fieldText(domain.internationalPrefix),
      areaCode: fieldText(domain.areaCode),
      rewriteRuleSetId: fieldText(domain.rewriteRuleSetId),
    },
  });
  const save = useMutation({
    mutationFn: async (v: z.infer<typeof DomainEditForm>) =>
      unwrap(
        await api.PATCH('/api/v1/domains/{id}', {
          params: { path: { id: domain.id } },
          body: {
            selfSignup: v.selfSignup,
            countryCode: textOrNull(v.countryCode),
            nationalPrefix: textOrNull(v.nationalPrefix),
            internationalPrefix: textOrNull(v.internationalPrefix),
            areaCode: textOrNull(v.areaCode),
            rewriteRuleSetId: textOrNull(v.rewriteRuleSetId),
          },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['domains'] });
      onDone();
    },
  });
  const err = form.formState.errors;
  return (
    <EditPanel
      title={`Edit domain ${domain.name}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={onDone}
      error={save.error}
      saving={save.isPending}
    >
      <TextInput label="Country code" {...form.register('countryCode')} error={err.countryCode?.message} />
      <TextInput
        label="National prefix"
        {...form.register('nationalPrefix')}
        error={err.nationalPrefix?.message}
      />
      <TextInput
        label="International prefix"
        {...form.register('internationalPrefix')}
        error={err.internationalPrefix?.message}
      />
      <TextInput label="Area code" {...form.register('areaCode')} error={err.areaCode?.message} />
      <NativeSelect
        label="Rewrite rule set"
        {...form.register('rewriteRuleSetId')}
        data={[
          { value: '', label: 'None' },
          ...(ruleSets.data?.items ?? []).map((s) => ({ value: s.id, label: s.name })),
        ]}
      />
      <Checkbox label="Customers may sign up" {...form.register('selfSignup')} />
    </EditPanel>
  );
}

export function DomainsPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const domains = useQuery({
    queryKey: ['domains'],
    queryFn: async () => unwrap(await api.GET('/api/v1/domains', { params: { query: { perPage: 500 } } })),
  });
  const [editing, setEditing] = useState<Domain | null>(null);
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
      {editing && <DomainEditor key={editing.id} domain={editing} onDone={() => setEditing(null)} />}
      <DataTable
        caption="Domains"
        rows={domains.data?.items}
        error={domains.error}
        columns={[
          { header: 'Domain', cell: (r) => r.name },
          { header: 'Country code', cell: (r) => r.countryCode ?? '–' },
          { header: 'Area code', cell: (r) => r.areaCode ?? '–' },
          { header: 'Sign-up', cell: (r) => (r.selfSignup ? 'open' : 'closed') },
          { header: 'Actions', cell: (r) => <EditButton what={r.name} onClick={() => setEditing(r)} /> },
        ]}
      />
    </Stack>
  );
}
