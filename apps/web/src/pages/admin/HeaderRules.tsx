import {
  Alert,
  Button,
  Card,
  Group,
  NativeSelect,
  SimpleGrid,
  Stack,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { usePagedList } from '../../components/paging.ts';
import { DeleteButton } from '../../components/RecordActions.tsx';
import { RecordTable } from '../../components/RecordTable.tsx';

const ACTIONS = [
  'add_header',
  'remove_header',
  'replace_header',
  'set_ruri_user',
  'set_ruri_host',
  'keep_headers',
] as const;
type Action = (typeof ACTIONS)[number];
type Direction = 'inbound' | 'outbound';
/** A request as the tester shows it (the API's [name, value] pairs). */
interface Message {
  method: string;
  requestUri: string;
  headers: string[][];
}
type TestResult = { before: Message; after: Message };

const SAMPLE = `INVITE sip:004930555123@gw.example.net SIP/2.0
P-Asserted-Identity: <sip:+4930111111@example.test>
X-Internal: node-7
User-Agent: Phone/1.0`;

/** A sample request typed as text: the request line, then one `Name: value` header a line. */
export function parseSample(text: string): Message & { headers: Array<[string, string]> } {
  const [first = '', ...lines] = text.split(/\r?\n/);
  const [method = 'INVITE', requestUri = ''] = first.trim().split(/\s+/);
  const headers: Array<[string, string]> = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { method, requestUri, headers };
}

function printed(message: Message): string {
  return [
    `${message.method} ${message.requestUri} SIP/2.0`,
    ...message.headers.map(([n, v]) => `${n}: ${v}`),
  ].join('\n');
}

function text(form: FormData, name: string): string | null {
  const value = String(form.get(name) ?? '').trim();
  return value === '' ? null : value;
}

/**
 * Header rule sets of the session border controller (docs/sbc.md): their rules, where they are
 * bound, and a tester that shows a sample request before and after.
 */
export function HeaderRulesPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [ruleSetId, setRuleSetId] = useState('');
  const [result, setResult] = useState<TestResult | null>(null);
  const sets = useQuery({
    queryKey: ['header-rule-sets'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/header-rule-sets', { params: { query: { perPage: 500 } } })),
  });
  const current = ruleSetId || sets.data?.items[0]?.id || '';
  const currentSet = sets.data?.items.find((s) => s.id === current);
  const rules = usePagedList(
    ['header-rules', current],
    async (query) =>
      unwrap(
        await api.GET('/api/v1/header-rule-sets/{ruleSetId}/rules', {
          params: { path: { ruleSetId: current }, query },
        }),
      ),
    { defaultSort: 'priority', enabled: current !== '' },
  );
  const bindings = usePagedList(
    ['header-rule-bindings', current],
    async (query) =>
      unwrap(
        await api.GET('/api/v1/header-rule-bindings', {
          params: { query: { ...query, ruleSetId: current } },
        }),
      ),
    { defaultSort: 'direction,priority', enabled: current !== '' },
  );
  const targets = useQuery({
    queryKey: ['header-rule-targets'],
    queryFn: async () => {
      const [groups, domains] = await Promise.all([
        api.GET('/api/v1/peering-groups', { params: { query: { perPage: 500 } } }),
        api.GET('/api/v1/domains', { params: { query: { perPage: 500 } } }),
      ]);
      return { groups: unwrap(groups).items, domains: unwrap(domains).items };
    },
  });
  const createSet = useMutation({
    mutationFn: async (name: string) =>
      unwrap(await api.POST('/api/v1/header-rule-sets', { body: { name } })),
    onSuccess: (set) => {
      setRuleSetId(set.id);
      return queryClient.invalidateQueries({ queryKey: ['header-rule-sets'] });
    },
  });
  const createRule = useMutation({
    mutationFn: async (form: FormData) =>
      unwrap(
        await api.POST('/api/v1/header-rule-sets/{ruleSetId}/rules', {
          params: { path: { ruleSetId: current } },
          body: {
            action: String(form.get('action')) as Action,
            direction: (text(form, 'direction') as Direction | null) ?? null,
            method: text(form, 'method'),
            headerName: text(form, 'headerName'),
            headerPattern: text(form, 'headerPattern'),
            sourceAddress: text(form, 'sourceAddress'),
            callerPattern: text(form, 'callerPattern'),
            calleePattern: text(form, 'calleePattern'),
            targetHeader: text(form, 'targetHeader'),
            matchPattern: text(form, 'matchPattern'),
            value: text(form, 'value'),
            priority: Number(text(form, 'priority') ?? 100),
          },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['header-rules', current] }),
  });
  const createBinding = useMutation({
    mutationFn: async (form: FormData) => {
      const [kind, id] = String(form.get('target')).split(':');
      return unwrap(
        await api.POST('/api/v1/header-rule-bindings', {
          body: {
            ruleSetId: current,
            direction: String(form.get('direction')) as Direction,
            ...(kind === 'group' ? { peeringGroupId: id } : { domainId: id }),
          },
        }),
      );
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['header-rule-bindings', current] }),
  });
  const test = useMutation({
    mutationFn: async (form: FormData) =>
      unwrap(
        await api.POST('/api/v1/header-rule-sets/{id}/test', {
          params: { path: { id: current } },
          body: {
            direction: String(form.get('direction')) as Direction,
            message: parseSample(String(form.get('sample') ?? '')),
            ...(text(form, 'sourceAddress') ? { sourceAddress: text(form, 'sourceAddress') ?? '' } : {}),
          },
        }),
      ),
    onSuccess: setResult,
  });
  function submit(handler: (form: FormData, clear: () => void) => void) {
    return (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      const el = event.currentTarget;
      handler(new FormData(el), () => el.reset());
    };
  }
  const targetOptions = [
    ...(targets.data?.groups ?? []).map((g) => ({
      value: `group:${g.id}`,
      label: `Peering group ${g.name}`,
    })),
    ...(targets.data?.domains ?? []).map((d) => ({ value: `domain:${d.id}`, label: `Domain ${d.name}` })),
  ];
  const targetName = (b: {
    peeringGroupId?: string | null;
    gatewayId?: string | null;
    domainId?: string | null;
  }) =>
    targetOptions.find((o) => o.value === `group:${b.peeringGroupId}` || o.value === `domain:${b.domainId}`)
      ?.label ?? (b.gatewayId ? `Gateway ${b.gatewayId}` : '?');
  return (
    <Stack>
      <Title order={1}>Header rules</Title>
      <Group align="flex-end">
        <NativeSelect
          label="Header rule set"
          value={current}
          onChange={(e) => setRuleSetId(e.currentTarget.value)}
          data={
            sets.data?.items.length === 0
              ? [{ value: '', label: 'None yet: add a rule set' }]
              : (sets.data?.items ?? []).map((s) => ({ value: s.id, label: s.name }))
          }
        />
        {currentSet && (
          <DeleteButton
            what={`header rule set ${currentSet.name}`}
            path={`/api/v1/header-rule-sets/${currentSet.id}`}
            onDeleted={() => {
              setRuleSetId('');
              return queryClient.invalidateQueries({ queryKey: ['header-rule-sets'] });
            }}
          />
        )}
        <form
          aria-label="New header rule set"
          onSubmit={submit((f, clear) => createSet.mutate(String(f.get('name')), { onSuccess: clear }))}
        >
          <Group align="flex-end">
            <TextInput label="New rule set name" name="name" required />
            <Button type="submit" variant="light">
              Add rule set
            </Button>
          </Group>
        </form>
      </Group>
      <FormAlert error={createSet.error} />
      {current && (
        <>
          <Card withBorder>
            <form
              aria-label="New header rule"
              onSubmit={submit((f, clear) => createRule.mutate(f, { onSuccess: clear }))}
            >
              <Stack>
                <Title order={2} size="h4">
                  New rule
                </Title>
                <FormAlert error={createRule.error} />
                <SimpleGrid cols={{ base: 1, sm: 4 }}>
                  <NativeSelect label="Action" name="action" data={[...ACTIONS]} />
                  <TextInput label="Header" name="targetHeader" description="keep_headers: a comma list" />
                  <TextInput label="Match pattern" name="matchPattern" description="Regular expression" />
                  <TextInput label="Value" name="value" description="$1 = first ( ) group" />
                  <NativeSelect label="Direction" name="direction" data={['', 'outbound', 'inbound']} />
                  <TextInput label="Method" name="method" placeholder="INVITE" />
                  <TextInput label="When header present" name="headerName" />
                  <TextInput label="And matches" name="headerPattern" />
                  <TextInput label="Source address" name="sourceAddress" placeholder="127.0.0.0/8" />
                  <TextInput label="Caller pattern" name="callerPattern" />
                  <TextInput label="Callee pattern" name="calleePattern" />
                  <TextInput label="Priority" name="priority" type="number" defaultValue="100" />
                </SimpleGrid>
                <Group>
                  <Button type="submit">Add rule</Button>
                </Group>
              </Stack>
            </form>
          </Card>
          <RecordTable
            caption="Rules"
            what="rules"
            basePath={`/api/v1/header-rule-sets/${current}/rules`}
            name={(r) => `rule ${r.action} ${r.targetHeader ?? ''}`}
            list={rules}
            onChanged={() => queryClient.invalidateQueries({ queryKey: ['header-rules', current] })}
            toggle={{ enable: { enabled: true }, disable: { enabled: false } }}
            empty="This set has no rules."
            columns={[
              { header: 'Priority', cell: (r) => r.priority, sortKey: 'priority' },
              { header: 'Action', cell: (r) => r.action, sortKey: 'action' },
              { header: 'Header', cell: (r) => <code>{r.targetHeader}</code> },
              {
                header: 'Value',
                cell: (r) => <code>{[r.matchPattern, r.value].filter(Boolean).join(' → ')}</code>,
              },
              {
                header: 'When',
                cell: (r) =>
                  [r.direction, r.method, r.headerName, r.sourceAddress, r.callerPattern, r.calleePattern]
                    .filter(Boolean)
                    .join(', ') || 'always',
              },
              { header: 'Enabled', cell: (r) => (r.enabled ? 'yes' : 'no') },
            ]}
          />
          <Card withBorder>
            <form aria-label="New header rule binding" onSubmit={submit((f) => createBinding.mutate(f))}>
              <Stack>
                <Title order={2} size="h4">
                  Applies to
                </Title>
                <FormAlert error={createBinding.error} />
                <Group align="flex-end">
                  <NativeSelect label="Binding direction" name="direction" data={['outbound', 'inbound']} />
                  <NativeSelect label="Binding target" name="target" data={targetOptions} />
                  <Button type="submit" variant="light">
                    Bind
                  </Button>
                </Group>
              </Stack>
            </form>
          </Card>
          <RecordTable
            caption="Bindings"
            what="bindings"
            basePath="/api/v1/header-rule-bindings"
            name={(b) => `binding to ${targetName(b)}`}
            list={bindings}
            onChanged={() => queryClient.invalidateQueries({ queryKey: ['header-rule-bindings', current] })}
            empty="This set applies nowhere yet."
            columns={[
              { header: 'Direction', cell: (b) => b.direction, sortKey: 'direction' },
              { header: 'Target', cell: (b) => targetName(b) },
              { header: 'Priority', cell: (b) => b.priority, sortKey: 'priority' },
            ]}
          />
          <Card withBorder>
            <form aria-label="Header rule tester" onSubmit={submit((f) => test.mutate(f))}>
              <Stack>
                <Title order={2} size="h4">
                  Try a request
                </Title>
                <FormAlert error={test.error} />
                <Group align="flex-end">
                  <NativeSelect label="Tester direction" name="direction" data={['outbound', 'inbound']} />
                  <TextInput label="Source address (inbound)" name="sourceAddress" />
                </Group>
                <Textarea label="Sample request" name="sample" defaultValue={SAMPLE} rows={6} />
                <Group>
                  <Button type="submit">Test</Button>
                </Group>
              </Stack>
            </form>
            {result && (
              <SimpleGrid cols={2} mt="md">
                <Alert color="gray" title="Before">
                  <pre data-testid="header-rules-before">{printed(result.before)}</pre>
                </Alert>
                <Alert color="blue" role="status" title="After">
                  <pre data-testid="header-rules-after">{printed(result.after)}</pre>
                </Alert>
              </SimpleGrid>
            )}
          </Card>
        </>
      )}
    </Stack>
  );
}
