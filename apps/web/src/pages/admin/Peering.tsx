import { zodResolver } from '@hookform/resolvers/zod';
import {
  Button,
  Card,
  Checkbox,
  Group,
  NativeSelect,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, type ResponseOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import {
  CodecPolicyFields,
  CodecPolicyForm,
  codecPolicyValues,
  type PeerPolicy,
  savePeerPolicy,
  WithPeerPolicy,
} from '../../components/CodecPolicyFields.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { EditButton, EditPanel, useSaveThenClose } from '../../components/EditPanel.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { choiceField, countField, fieldText, textField, textOrNull } from '../../components/fields.ts';
import { PeeringPatternHelp } from '../../components/PatternHelp.tsx';
import { PeerLimitsFields, PeerLimitsForm, peerLimitsValues } from '../../components/PeerLimitsFields.tsx';
import { usePagedList } from '../../components/paging.ts';
import { DeleteButton } from '../../components/RecordActions.tsx';
import { RecordTable } from '../../components/RecordTable.tsx';
import { GatewayStatusPanel, RegistrationCell, StateBadge } from './GatewayStatus.tsx';

type PeeringGroup = ItemOf<'/api/v1/peering-groups'>;
type Gateway = ItemOf<'/api/v1/peering-groups/{groupId}/gateways'>;
type Rule = ItemOf<'/api/v1/peering-groups/{groupId}/rules'>;

type Route = ResponseOf<'/api/v1/peering-groups/test-route', 'post'>;
type Transport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

function submit(handler: (form: FormData, clear: () => void) => void) {
  return (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const el = event.currentTarget;
    // A create form empties once the record is saved; a failed one keeps what was typed.
    handler(new FormData(el), () => el.reset());
  };
}

const text = (f: FormData, name: string) => String(f.get(name) ?? '').trim();

export const PeeringGroupEditForm = z.object({
  name: textField('updatePeeringGroup', 'name', { required: 'Enter a name' }),
  description: textField('updatePeeringGroup', 'description'),
  priority: countField('updatePeeringGroup', 'priority'),
  enabled: z.boolean(),
  codecs: CodecPolicyForm,
  limits: PeerLimitsForm,
});

export const GatewayEditForm = z.object({
  name: textField('updateGateway', 'name', { required: 'Enter a name' }),
  // The API's host-name rule (an IPv4 address passes it too).
  host: textField('updateGateway', 'host', { invalid: 'A host name or IPv4 address' }),
  port: countField('updateGateway', 'port'),
  transport: choiceField('updateGateway', 'transport'),
  priority: countField('updateGateway', 'priority'),
  weight: countField('updateGateway', 'weight'),
  enabled: z.boolean(),
  registerEnabled: z.boolean(),
  registrarUri: textField('updateGateway', 'registrarUri', { invalid: 'A sip: or sips: URI' }),
  registerUsername: textField('updateGateway', 'registerUsername'),
  registerPassword: textField('updateGateway', 'registerPassword', { trim: false, optional: true }),
  registerRealm: textField('updateGateway', 'registerRealm'),
  registerExpires: countField('updateGateway', 'registerExpires'),
  registerOutboundProxy: textField('updateGateway', 'registerOutboundProxy', {
    invalid: 'A sip: or sips: URI',
  }),
  registerTransport: choiceField('updateGateway', 'registerTransport'),
  healthCheck: z.boolean(),
  healthInterval: countField('updateGateway', 'healthInterval'),
  healthThreshold: countField('updateGateway', 'healthThreshold'),
  codecs: CodecPolicyForm,
  limits: PeerLimitsForm,
});

export const PeeringRuleEditForm = z.object({
  calleePrefix: textField('updatePeeringRule', 'calleePrefix', { invalid: 'Digits only, without +' }),
  callerPattern: textField('updatePeeringRule', 'callerPattern', { trim: false }),
  priority: countField('updatePeeringRule', 'priority'),
  enabled: z.boolean(),
  description: textField('updatePeeringRule', 'description'),
});

/** A group's settings and its peer policy's codec section (docs/sbc.md). */
function GroupEditor(props: { group: PeeringGroup; onDone: () => void }) {
  return (
    <WithPeerPolicy target={{ peeringGroupId: props.group.id }}>
      {(policy) => <GroupForm {...props} policy={policy} />}
    </WithPeerPolicy>
  );
}

function GroupForm({
  group,
  onDone,
  policy,
}: {
  group: PeeringGroup;
  onDone: () => void;
  policy: PeerPolicy | null;
}) {
  const api = useApi();
  const form = useForm({
    resolver: zodResolver(PeeringGroupEditForm),
    defaultValues: {
      name: group.name,
      description: fieldText(group.description),
      priority: String(group.priority),
      enabled: group.enabled,
      codecs: codecPolicyValues(policy ?? undefined),
      limits: peerLimitsValues(policy ?? undefined),
    },
  });
  const save = useSaveThenClose(
    ['peering-groups'],
    onDone,
    async (v: z.infer<typeof PeeringGroupEditForm>) => {
      await savePeerPolicy(api, { peeringGroupId: group.id }, policy, v.codecs, v.limits);
      return unwrap(
        await api.PATCH('/api/v1/peering-groups/{id}', {
          params: { path: { id: group.id } },
          body: {
            name: v.name,
            description: textOrNull(v.description),
            priority: Number(v.priority),
            enabled: v.enabled,
          },
        }),
      );
    },
  );
  const err = form.formState.errors;
  return (
    <EditPanel
      title={`Edit peering group ${group.name}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={onDone}
      error={save.error}
      saving={save.isPending}
    >
      <TextInput label="Name" {...form.register('name')} error={err.name?.message} />
      <TextInput label="Description" {...form.register('description')} error={err.description?.message} />
      <TextInput
        label="Priority"
        inputMode="numeric"
        {...form.register('priority')}
        error={err.priority?.message}
      />
      <Checkbox label="Enabled" {...form.register('enabled')} />
      <CodecPolicyFields
        title="Codec policy"
        register={form.register}
        errors={err.codecs}
        inherits="the domain's, else any. A gateway's own policy wins."
        peer
      />
      <PeerLimitsFields register={form.register} errors={err.limits} inherits="on" />
    </EditPanel>
  );
}

/** A gateway's settings and its peer policy's codec section (docs/sbc.md). */
function GatewayEditor(props: { groupId: string; gateway: Gateway; onDone: () => void }) {
  return (
    <WithPeerPolicy target={{ gatewayId: props.gateway.id }}>
      {(policy) => <GatewayForm {...props} policy={policy} />}
    </WithPeerPolicy>
  );
}

function GatewayForm(props: {
  groupId: string;
  gateway: Gateway;
  onDone: () => void;
  policy: PeerPolicy | null;
}) {
  const { gateway, policy } = props;
  const api = useApi();
  const form = useForm({
    resolver: zodResolver(GatewayEditForm),
    defaultValues: {
      name: gateway.name,
      host: gateway.host,
      port: String(gateway.port),
      transport: gateway.transport as 'udp' | 'tcp' | 'tls',
      priority: String(gateway.priority),
      weight: String(gateway.weight),
      enabled: gateway.enabled,
      registerEnabled: gateway.registerEnabled,
      registrarUri: fieldText(gateway.registrarUri),
      registerUsername: fieldText(gateway.registerUsername),
      registerPassword: '',
      registerRealm: fieldText(gateway.registerRealm),
      registerExpires: String(gateway.registerExpires),
      registerOutboundProxy: fieldText(gateway.registerOutboundProxy),
      registerTransport: gateway.registerTransport,
      healthCheck: gateway.healthCheck,
      healthInterval: String(gateway.healthInterval),
      healthThreshold: String(gateway.healthThreshold),
      codecs: codecPolicyValues(policy ?? undefined),
      limits: peerLimitsValues(policy ?? undefined),
    },
  });
  const save = useSaveThenClose(
    ['gateways', props.groupId],
    props.onDone,
    async (v: z.infer<typeof GatewayEditForm>) => {
      await savePeerPolicy(api, { gatewayId: gateway.id }, policy, v.codecs, v.limits);
      return unwrap(
        await api.PATCH('/api/v1/peering-groups/{groupId}/gateways/{id}', {
          params: { path: { groupId: props.groupId, id: gateway.id } },
          body: {
            name: v.name,
            host: v.host,
            port: Number(v.port),
            transport: v.transport,
            priority: Number(v.priority),
            weight: Number(v.weight),
            enabled: v.enabled,
            registerEnabled: v.registerEnabled,
            registrarUri: textOrNull(v.registrarUri),
            registerUsername: textOrNull(v.registerUsername),
            // Write-only: empty keeps the stored password.
            ...(v.registerPassword ? { registerPassword: v.registerPassword } : {}),
            registerRealm: textOrNull(v.registerRealm),
            registerExpires: Number(v.registerExpires),
            registerOutboundProxy: textOrNull(v.registerOutboundProxy),
            registerTransport: v.registerTransport,
            healthCheck: v.healthCheck,
            healthInterval: Number(v.healthInterval),
            healthThreshold: Number(v.healthThreshold),
          },
        }),
      );
    },
  );
  const err = form.formState.errors;
  return (
    <EditPanel
      title={`Edit gateway ${gateway.name}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={props.onDone}
      error={save.error}
      saving={save.isPending}
    >
      <TextInput label="Gateway name" {...form.register('name')} error={err.name?.message} />
      <TextInput label="Host" {...form.register('host')} error={err.host?.message} />
      <TextInput
        label="Port"
        inputMode="numeric"
        {...form.register('port')}
        error={err.port?.message}
        w={100}
      />
      <NativeSelect label="Transport" {...form.register('transport')} data={['udp', 'tcp', 'tls']} />
      <TextInput
        label="Priority"
        inputMode="numeric"
        {...form.register('priority')}
        error={err.priority?.message}
      />
      <TextInput
        label="Weight"
        inputMode="numeric"
        {...form.register('weight')}
        error={err.weight?.message}
      />
      <Checkbox label="Enabled" {...form.register('enabled')} />
      <Title order={3} size="h5">
        Trunk registration
      </Title>
      <Checkbox label="Register to the carrier" {...form.register('registerEnabled')} />
      <TextInput
        label="Registrar URI"
        placeholder="sip:reg.carrier.example"
        {...form.register('registrarUri')}
        error={err.registrarUri?.message}
      />
      <TextInput
        label="Registration username"
        autoComplete="off"
        {...form.register('registerUsername')}
        error={err.registerUsername?.message}
      />
      <PasswordInput
        label="Registration password"
        description={gateway.hasRegisterPassword ? 'Stored; leave empty to keep it' : 'Not set'}
        autoComplete="new-password"
        {...form.register('registerPassword')}
        error={err.registerPassword?.message}
      />
      <TextInput
        label="Registration realm"
        {...form.register('registerRealm')}
        error={err.registerRealm?.message}
      />
      <TextInput
        label="Expiry (s)"
        inputMode="numeric"
        {...form.register('registerExpires')}
        error={err.registerExpires?.message}
      />
      <TextInput
        label="Outbound proxy"
        {...form.register('registerOutboundProxy')}
        error={err.registerOutboundProxy?.message}
      />
      <NativeSelect
        label="Registration transport"
        {...form.register('registerTransport')}
        data={['udp', 'tcp', 'tls']}
      />
      {gateway.registerContactUser && (
        <Text size="sm">Registered contact user: {gateway.registerContactUser}</Text>
      )}
      <Title order={3} size="h5">
        Health check
      </Title>
      <Checkbox
        label="Ping with OPTIONS (LCR skips the gateway while down)"
        {...form.register('healthCheck')}
      />
      <TextInput
        label="Interval (s)"
        inputMode="numeric"
        {...form.register('healthInterval')}
        error={err.healthInterval?.message}
      />
      <TextInput
        label="Failures before down"
        inputMode="numeric"
        {...form.register('healthThreshold')}
        error={err.healthThreshold?.message}
      />
      <CodecPolicyFields
        title="Codec policy"
        register={form.register}
        errors={err.codecs}
        inherits="the peering group's, else the domain's, else any."
        peer
      />
      <PeerLimitsFields
        register={form.register}
        errors={err.limits}
        inherits="the peering group's, else on"
      />
      <GatewayStatusPanel groupId={props.groupId} gatewayId={gateway.id} />
    </EditPanel>
  );
}

function RuleEditor(props: { groupId: string; rule: Rule; onDone: () => void }) {
  const { rule } = props;
  const api = useApi();
  const form = useForm({
    resolver: zodResolver(PeeringRuleEditForm),
    defaultValues: {
      calleePrefix: rule.calleePrefix,
      callerPattern: fieldText(rule.callerPattern),
      priority: String(rule.priority),
      enabled: rule.enabled,
      description: fieldText(rule.description),
    },
  });
  const save = useSaveThenClose(
    ['peering-rules', props.groupId],
    props.onDone,
    async (v: z.infer<typeof PeeringRuleEditForm>) =>
      unwrap(
        await api.PATCH('/api/v1/peering-groups/{groupId}/rules/{id}', {
          params: { path: { groupId: props.groupId, id: rule.id } },
          body: {
            calleePrefix: v.calleePrefix,
            callerPattern: textOrNull(v.callerPattern),
            priority: Number(v.priority),
            enabled: v.enabled,
            description: textOrNull(v.description),
          },
        }),
      ),
  );
  const err = form.formState.errors;
  return (
    <EditPanel
      title={`Edit routing rule ${rule.calleePrefix || '(any)'}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={props.onDone}
      error={save.error}
      saving={save.isPending}
    >
      <TextInput label="Callee prefix" {...form.register('calleePrefix')} error={err.calleePrefix?.message} />
      <TextInput
        label="Caller pattern"
        {...form.register('callerPattern')}
        error={err.callerPattern?.message}
      />
      <TextInput
        label="Priority"
        inputMode="numeric"
        {...form.register('priority')}
        error={err.priority?.message}
      />
      <TextInput label="Description" {...form.register('description')} error={err.description?.message} />
      <Checkbox label="Enabled" {...form.register('enabled')} />
    </EditPanel>
  );
}

/** Peering groups with their gateways and routing rules, and the LCR tester. */
export function PeeringPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [groupId, setGroupId] = useState('');
  const [route, setRoute] = useState<Route | null>(null);
  const [editing, setEditing] = useState<
    | { kind: 'group'; group: PeeringGroup }
    | { kind: 'gateway'; gateway: Gateway }
    | { kind: 'rule'; rule: Rule }
    | null
  >(null);
  const done = () => setEditing(null);
  const groups = useQuery({
    queryKey: ['peering-groups'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/peering-groups', { params: { query: { perPage: 500 } } })),
  });
  const current = groupId || groups.data?.items[0]?.id || '';
  const currentGroup = groups.data?.items.find((g) => g.id === current);
  const gateways = usePagedList(
    ['gateways', current],
    async (query) =>
      unwrap(
        await api.GET('/api/v1/peering-groups/{groupId}/gateways', {
          params: { path: { groupId: current }, query },
        }),
      ),
    { defaultSort: 'priority', perPage: 10, enabled: current !== '' },
  );
  const rules = usePagedList(
    ['peering-rules', current],
    async (query) =>
      unwrap(
        await api.GET('/api/v1/peering-groups/{groupId}/rules', {
          params: { path: { groupId: current }, query },
        }),
      ),
    { defaultSort: 'calleePrefix', perPage: 10, enabled: current !== '' },
  );
  const createGroup = useMutation({
    mutationFn: async (f: FormData) =>
      unwrap(
        await api.POST('/api/v1/peering-groups', {
          body: { name: text(f, 'name'), priority: Number(text(f, 'priority') || 1) },
        }),
      ),
    onSuccess: (g) => {
      setGroupId(g.id);
      return queryClient.invalidateQueries({ queryKey: ['peering-groups'] });
    },
  });
  const createGateway = useMutation({
    mutationFn: async (f: FormData) =>
      unwrap(
        await api.POST('/api/v1/peering-groups/{groupId}/gateways', {
          params: { path: { groupId: current } },
          body: {
            name: text(f, 'name'),
            host: text(f, 'host'),
            port: Number(text(f, 'port') || 5060),
            transport: text(f, 'transport') as Transport,
            ...(text(f, 'priority') ? { priority: Number(text(f, 'priority')) } : {}),
            ...(text(f, 'weight') ? { weight: Number(text(f, 'weight')) } : {}),
            ...(text(f, 'authUsername') ? { authUsername: text(f, 'authUsername') } : {}),
            ...(String(f.get('authPassword') ?? '') ? { authPassword: String(f.get('authPassword')) } : {}),
            ...(text(f, 'authRealm') ? { authRealm: text(f, 'authRealm') } : {}),
          },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['gateways', current] }),
  });
  const createRule = useMutation({
    mutationFn: async (f: FormData) =>
      unwrap(
        await api.POST('/api/v1/peering-groups/{groupId}/rules', {
          params: { path: { groupId: current } },
          body: {
            calleePrefix: text(f, 'calleePrefix'),
            ...(text(f, 'callerPattern') ? { callerPattern: text(f, 'callerPattern') } : {}),
            ...(text(f, 'priority') ? { priority: Number(text(f, 'priority')) } : {}),
            ...(text(f, 'description') ? { description: text(f, 'description') } : {}),
          },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['peering-rules', current] }),
  });
  const test = useMutation({
    mutationFn: async (f: FormData) =>
      unwrap(
        await api.POST('/api/v1/peering-groups/test-route', {
          body: { callee: text(f, 'callee'), ...(text(f, 'caller') ? { caller: text(f, 'caller') } : {}) },
        }),
      ),
    onSuccess: setRoute,
  });
  return (
    <Stack>
      <Title order={1}>Peering</Title>
      <Group align="flex-end">
        <NativeSelect
          label="Peering group"
          value={current}
          onChange={(e) => {
            setGroupId(e.currentTarget.value);
            setEditing(null);
          }}
          data={
            groups.data?.items.length === 0
              ? [{ value: '', label: 'None yet: add a group' }]
              : (groups.data?.items ?? []).map((g) => ({
                  value: g.id,
                  label: `${g.name} (priority ${g.priority})`,
                }))
          }
        />
        {currentGroup && (
          <>
            <EditButton
              what={`peering group ${currentGroup.name}`}
              onClick={() => setEditing({ kind: 'group', group: currentGroup })}
            />
            <DeleteButton
              what={`peering group ${currentGroup.name}`}
              path={`/api/v1/peering-groups/${currentGroup.id}`}
              onDeleted={() => {
                setGroupId('');
                return queryClient.invalidateQueries({ queryKey: ['peering-groups'] });
              }}
            />
          </>
        )}
        <form
          onSubmit={submit((f, clear) => createGroup.mutate(f, { onSuccess: clear }))}
          aria-label="New peering group"
        >
          <Group align="flex-end">
            <TextInput label="New group name" name="name" required />
            <TextInput label="Group priority" name="priority" type="number" defaultValue="1" w={120} />
            <Button type="submit" variant="light">
              Add group
            </Button>
          </Group>
        </form>
      </Group>
      <FormAlert error={createGroup.error} />
      {editing?.kind === 'group' && (
        <GroupEditor key={editing.group.id} group={editing.group} onDone={done} />
      )}
      {current && (
        <>
          <Card withBorder>
            <Title order={2} size="h4" mb="sm">
              Gateways
            </Title>
            <form
              onSubmit={submit((f, clear) => createGateway.mutate(f, { onSuccess: clear }))}
              aria-label="New gateway"
            >
              <Stack>
                <FormAlert error={createGateway.error} />
                <Group align="flex-end">
                  <TextInput label="Gateway name" name="name" required />
                  <TextInput label="Host" name="host" required />
                  <TextInput label="Port" name="port" type="number" defaultValue="5060" w={100} />
                  <NativeSelect label="Transport" name="transport" data={['udp', 'tcp', 'tls']} />
                  <TextInput
                    label="Gateway priority"
                    name="priority"
                    type="number"
                    defaultValue="100"
                    w={120}
                  />
                  <TextInput label="Weight" name="weight" type="number" defaultValue="1" w={90} />
                  <TextInput label="Auth user" name="authUsername" autoComplete="off" />
                  <PasswordInput
                    label="Auth password"
                    name="authPassword"
                    autoComplete="new-password"
                    w={180}
                  />
                  <TextInput label="Auth realm" name="authRealm" autoComplete="off" />
                  <Button type="submit">Add gateway</Button>
                </Group>
              </Stack>
            </form>
            {editing?.kind === 'gateway' && (
              <GatewayEditor
                key={editing.gateway.id}
                groupId={current}
                gateway={editing.gateway}
                onDone={done}
              />
            )}
            <RecordTable
              caption="Gateways"
              what="gateways"
              basePath={`/api/v1/peering-groups/${current}/gateways`}
              name={(r) => `gateway ${r.name}`}
              list={gateways}
              onChanged={() => queryClient.invalidateQueries({ queryKey: ['gateways', current] })}
              toggle={{ enable: { enabled: true }, disable: { enabled: false } }}
              empty="No gateways in this group."
              columns={[
                { header: 'Name', cell: (r) => r.name, sortKey: 'name' },
                { header: 'Address', cell: (r) => `${r.transport}:${r.host}:${r.port}` },
                { header: 'Priority', cell: (r) => r.priority, sortKey: 'priority' },
                { header: 'Weight', cell: (r) => r.weight, sortKey: 'weight' },
                { header: 'Enabled', cell: (r) => (r.enabled ? 'yes' : 'no') },
                { header: 'Registration', cell: (r) => <RegistrationCell gateway={r} /> },
                {
                  header: 'Health',
                  cell: (r) => <StateBadge state={r.status.health} error={r.status.healthError} />,
                },
              ]}
              actions={(r) => (
                <EditButton
                  what={`gateway ${r.name}`}
                  onClick={() => setEditing({ kind: 'gateway', gateway: r })}
                />
              )}
            />
          </Card>
          <Card withBorder>
            <Title order={2} size="h4" mb="sm">
              Routing rules
            </Title>
            <form
              onSubmit={submit((f, clear) => createRule.mutate(f, { onSuccess: clear }))}
              aria-label="New routing rule"
            >
              <Stack>
                <PeeringPatternHelp />
                <FormAlert error={createRule.error} />
                <Group align="flex-end">
                  <TextInput
                    label="Callee prefix"
                    name="calleePrefix"
                    description="Digits, without +"
                    inputMode="numeric"
                  />
                  <TextInput
                    label="Caller pattern"
                    name="callerPattern"
                    description="Optional regular expression"
                    placeholder="^43"
                  />
                  <TextInput label="Rule priority" name="priority" type="number" defaultValue="100" w={110} />
                  <TextInput label="Description" name="description" />
                  <Button type="submit">Add rule</Button>
                </Group>
              </Stack>
            </form>
            {editing?.kind === 'rule' && (
              <RuleEditor key={editing.rule.id} groupId={current} rule={editing.rule} onDone={done} />
            )}
            <RecordTable
              caption="Routing rules"
              what="rules"
              basePath={`/api/v1/peering-groups/${current}/rules`}
              name={(r) => `rule ${r.calleePrefix || '(any)'}`}
              list={rules}
              onChanged={() => queryClient.invalidateQueries({ queryKey: ['peering-rules', current] })}
              toggle={{ enable: { enabled: true }, disable: { enabled: false } }}
              empty="No rules: this group is not used."
              columns={[
                { header: 'Callee prefix', cell: (r) => r.calleePrefix || '(any)', sortKey: 'calleePrefix' },
                { header: 'Caller pattern', cell: (r) => r.callerPattern ?? '–' },
                { header: 'Priority', cell: (r) => r.priority, sortKey: 'priority' },
                { header: 'Description', cell: (r) => r.description ?? '–' },
                { header: 'Enabled', cell: (r) => (r.enabled ? 'yes' : 'no') },
              ]}
              actions={(r) => (
                <EditButton
                  what={`rule ${r.calleePrefix || '(any)'}`}
                  onClick={() => setEditing({ kind: 'rule', rule: r })}
                />
              )}
            />
          </Card>
        </>
      )}
      <Card withBorder>
        <Title order={2} size="h4" mb="sm">
          LCR tester
        </Title>
        <form onSubmit={submit((f) => test.mutate(f))} aria-label="LCR tester">
          <Stack>
            <FormAlert error={test.error} />
            <Group align="flex-end">
              <TextInput label="Callee (E.164)" name="callee" required />
              <TextInput label="Caller (optional)" name="caller" />
              <Button type="submit">Find route</Button>
            </Group>
          </Stack>
        </form>
        {route && (
          <DataTable
            caption="Gateways in failover order"
            rows={route.routes.map((r, i) => ({ ...r, id: `${i}` }))}
            empty="No gateway would take this call."
            columns={[
              { header: 'Order', cell: (r) => Number(r.id) + 1 },
              { header: 'Gateway', cell: (r) => r.gatewayName },
              { header: 'Group', cell: (r) => r.groupName },
              { header: 'Address', cell: (r) => `${r.transport}:${r.host}:${r.port}` },
              { header: 'Prefix', cell: (r) => r.calleePrefix || '(any)' },
            ]}
          />
        )}
      </Card>
    </Stack>
  );
}
