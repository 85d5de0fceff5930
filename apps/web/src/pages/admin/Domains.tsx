import { zodResolver } from '@hookform/resolvers/zod';
import { Button, Card, Checkbox, Group, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import {
  CodecPolicyFields,
  CodecPolicyForm,
  codecPolicyBody,
  codecPolicyValues,
} from '../../components/CodecPolicyFields.tsx';
import { EditButton, EditPanel, useSaveThenClose } from '../../components/EditPanel.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { fieldText, textField, textOrNull } from '../../components/fields.ts';
import { ListSearch } from '../../components/ListSearch.tsx';
import { recordOptions, useResellers, useRuleSets } from '../../components/options.ts';
import { usePagedList } from '../../components/paging.ts';
import { RecordTable } from '../../components/RecordTable.tsx';

type Domain = ItemOf<'/api/v1/domains'>;

/** Codecs the relay may add to a browser's offer towards SIP phones and gateways (and transcode to). */
const TRANSCODE_CODECS = ['PCMU', 'PCMA', 'G722'] as const;

const DomainForm = z.object({
  name: textField('createDomain', 'name', { required: 'Enter the SIP domain', invalid: 'A domain name' }),
  resellerId: z.string(),
  countryCode: textField('createDomain', 'countryCode', { invalid: 'Up to 3 digits' }),
  nationalPrefix: textField('createDomain', 'nationalPrefix', { invalid: 'Up to 4 digits' }),
  internationalPrefix: textField('createDomain', 'internationalPrefix', { invalid: 'Up to 5 digits' }),
  areaCode: textField('createDomain', 'areaCode', { invalid: 'Up to 6 digits' }),
  rewriteRuleSetId: z.string(),
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
  transcodeCodecs: z.array(z.enum(TRANSCODE_CODECS)),
  codecs: CodecPolicyForm,
  upstreamGatewayId: z.string(),
  voicemailAccessCode: textField('updateDomain', 'voicemailAccessCode', {
    invalid: 'Digits, * and #, e.g. *98',
  }),
});

/** Every peer gateway with its group's name, for the upstream PBX choice (operators only). */
function usePeerGateways(enabled: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: ['gateways', 'all'],
    enabled,
    queryFn: async () => {
      const groups = unwrap(await api.GET('/api/v1/peering-groups', { params: { query: { perPage: 500 } } }));
      const lists = await Promise.all(
        groups.items.map(async (group) => {
          const gateways = unwrap(
            await api.GET('/api/v1/peering-groups/{groupId}/gateways', {
              params: { path: { groupId: group.id }, query: { perPage: 500 } },
            }),
          );
          return gateways.items.map((g) => ({
            value: g.id,
            label: `${group.name} / ${g.name} (${g.host}:${g.port})`,
          }));
        }),
      );
      return lists.flat();
    },
  });
}

function DomainEditor({ domain, onDone }: { domain: Domain; onDone: () => void }) {
  const api = useApi();
  const ruleSets = useQuery({
    queryKey: ['rewrite-rule-sets'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/rewrite-rule-sets', { params: { query: { perPage: 500 } } })),
  });
  const operator = useResellers().operator;
  const gateways = usePeerGateways(operator);
  const form = useForm({
    resolver: zodResolver(DomainEditForm),
    defaultValues: {
      selfSignup: domain.selfSignup,
      countryCode: fieldText(domain.countryCode),
      nationalPrefix: fieldText(domain.nationalPrefix),
      internationalPrefix: fieldText(domain.internationalPrefix),
      areaCode: fieldText(domain.areaCode),
      rewriteRuleSetId: fieldText(domain.rewriteRuleSetId),
      transcodeCodecs: domain.transcodeCodecs,
      codecs: codecPolicyValues(domain),
      upstreamGatewayId: fieldText(domain.upstreamGatewayId),
      voicemailAccessCode: fieldText(domain.voicemailAccessCode),
    },
  });
  const save = useSaveThenClose(['domains'], onDone, async (v: z.infer<typeof DomainEditForm>) =>
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
          transcodeCodecs: v.transcodeCodecs,
          ...codecPolicyBody(v.codecs),
          voicemailAccessCode: textOrNull(v.voicemailAccessCode),
          // Only an operator may point a domain at a gateway (the API refuses the field otherwise).
          ...(operator ? { upstreamGatewayId: textOrNull(v.upstreamGatewayId) } : {}),
        },
      }),
    ),
  );
  const err = form.formState.errors;
  const transcode = form.watch('transcodeCodecs');
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
      <TextInput
        label="Voicemail access code"
        description="What this domain's subscribers dial for their own voicemail; empty: the platform's *98"
        placeholder="*98"
        {...form.register('voicemailAccessCode')}
        error={form.formState.errors.voicemailAccessCode?.message}
      />
      {operator && (
        <NativeSelect
          label="Upstream PBX"
          description="Phones of this domain register to and call through this gateway's PBX; the platform relays them (SBC)"
          {...form.register('upstreamGatewayId')}
          data={[{ value: '', label: 'None: the platform is the registrar' }, ...(gateways.data ?? [])]}
        />
      )}
      <Checkbox.Group
        label="Browser calls to SIP phones: transcode to"
        description="Added to a browser's offer when it lacks them (Opus to G.711); none: no transcoding"
        value={transcode}
        onChange={(v) =>
          form.setValue(
            'transcodeCodecs',
            TRANSCODE_CODECS.filter((c) => v.includes(c)),
            { shouldDirty: true },
          )
        }
      >
        <Group mt="xs">
          {TRANSCODE_CODECS.map((codec) => (
            <Checkbox key={codec} value={codec} label={codec} />
          ))}
        </Group>
      </Checkbox.Group>
      <CodecPolicyFields
        title="Codec policy towards carriers"
        register={form.register}
        errors={err.codecs}
        inherits="any. A gateway's or peering group's policy wins."
      />
    </EditPanel>
  );
}

export function DomainsPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const domains = usePagedList(
    ['domains'],
    async (query) => unwrap(await api.GET('/api/v1/domains', { params: { query } })),
    { defaultSort: 'name', filters: name ? { name } : {} },
  );
  const [editing, setEditing] = useState<Domain | null>(null);
  const form = useForm({
    resolver: zodResolver(DomainForm),
    defaultValues: {
      name: '',
      resellerId: '',
      countryCode: '',
      nationalPrefix: '',
      internationalPrefix: '',
      areaCode: '',
      rewriteRuleSetId: '',
      selfSignup: false,
    },
  });
  const resellers = useResellers();
  const ruleSets = useRuleSets();
  const create = useMutation({
    mutationFn: async (v: z.infer<typeof DomainForm>) =>
      unwrap(
        await api.POST('/api/v1/domains', {
          body: {
            name: v.name,
            ...(v.resellerId ? { resellerId: v.resellerId } : {}),
            countryCode: v.countryCode || null,
            ...(v.nationalPrefix ? { nationalPrefix: v.nationalPrefix } : {}),
            ...(v.internationalPrefix ? { internationalPrefix: v.internationalPrefix } : {}),
            ...(v.areaCode ? { areaCode: v.areaCode } : {}),
            ...(v.rewriteRuleSetId ? { rewriteRuleSetId: v.rewriteRuleSetId } : {}),
            selfSignup: v.selfSignup,
          },
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
              <TextInput
                label="Country code"
                {...form.register('countryCode')}
                error={form.formState.errors.countryCode?.message}
              />
              <TextInput
                label="National prefix"
                {...form.register('nationalPrefix')}
                error={form.formState.errors.nationalPrefix?.message}
              />
              <TextInput
                label="International prefix"
                {...form.register('internationalPrefix')}
                error={form.formState.errors.internationalPrefix?.message}
              />
              <TextInput
                label="Area code"
                {...form.register('areaCode')}
                error={form.formState.errors.areaCode?.message}
              />
              <NativeSelect
                label="Rewrite rule set"
                {...form.register('rewriteRuleSetId')}
                data={recordOptions(ruleSets.data?.items, 'None (create one under Rewrite rules)', 'None')}
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
      <ListSearch placeholder="name contains" value={name} onChange={setName} />
      <RecordTable
        caption="Domains"
        what="domains"
        basePath="/api/v1/domains"
        name={(r) => r.name}
        list={domains}
        onChanged={() => queryClient.invalidateQueries({ queryKey: ['domains'] })}
        empty={name ? 'No domain matches.' : 'No domains yet.'}
        actions={(r) => <EditButton what={r.name} onClick={() => setEditing(r)} />}
        columns={[
          { header: 'Domain', cell: (r) => r.name, sortKey: 'name' },
          { header: 'Country code', cell: (r) => r.countryCode ?? '–' },
          { header: 'Area code', cell: (r) => r.areaCode ?? '–' },
          {
            header: 'Browser transcoding',
            cell: (r) => (r.transcodeCodecs.length > 0 ? r.transcodeCodecs.join(', ') : 'off'),
          },
          { header: 'Sign-up', cell: (r) => (r.selfSignup ? 'open' : 'closed') },
          { header: 'Registrar', cell: (r) => (r.upstreamGatewayId ? 'upstream PBX' : 'platform') },
        ]}
      />
    </Stack>
  );
}
