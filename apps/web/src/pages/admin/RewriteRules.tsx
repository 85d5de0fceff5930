import { zodResolver } from '@hookform/resolvers/zod';
import {
  Alert,
  Button,
  Card,
  Checkbox,
  Group,
  NativeSelect,
  Stack,
  Table,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, type ResponseOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { EditButton, EditPanel, useSaveThenClose } from '../../components/EditPanel.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { choiceField, countField, fieldText, textField, textOrNull } from '../../components/fields.ts';
import { recordOptions, useResellers } from '../../components/options.ts';
import { RewritePatternHelp } from '../../components/PatternHelp.tsx';
import { usePagedList } from '../../components/paging.ts';
import { DeleteButton } from '../../components/RecordActions.tsx';
import { RecordTable } from '../../components/RecordTable.tsx';

const DIRECTIONS = ['from_subscriber', 'to_subscriber', 'inbound_from_peer', 'outbound_to_peer'] as const;
type Direction = (typeof DIRECTIONS)[number];
type Field = 'caller' | 'callee';
type TestResult = ResponseOf<'/api/v1/rewrite-rule-sets/{id}/test', 'post'>;
type RuleSet = ItemOf<'/api/v1/rewrite-rule-sets'>;
type Rule = ItemOf<'/api/v1/rewrite-rule-sets/{ruleSetId}/rules'>;

export const RuleSetEditForm = z.object({
  name: textField('updateRewriteRuleSet', 'name', { required: 'Enter a name' }),
  description: textField('updateRewriteRuleSet', 'description'),
});

/** A rewrite rule; the pattern is checked by the API (RE2 subset), here only that there is one. */
export const RewriteRuleEditForm = z.object({
  direction: choiceField('updateRewriteRule', 'direction'),
  field: choiceField('updateRewriteRule', 'field'),
  matchPattern: textField('updateRewriteRule', 'matchPattern', { required: 'Enter a pattern', trim: false }),
  replacement: textField('updateRewriteRule', 'replacement', { trim: false }),
  priority: countField('updateRewriteRule', 'priority'),
  enabled: z.boolean(),
});

function RuleSetEditor({ set, onDone }: { set: RuleSet; onDone: () => void }) {
  const api = useApi();
  const form = useForm({
    resolver: zodResolver(RuleSetEditForm),
    defaultValues: { name: set.name, description: fieldText(set.description) },
  });
  const save = useSaveThenClose(['rewrite-rule-sets'], onDone, async (v: z.infer<typeof RuleSetEditForm>) =>
    unwrap(
      await api.PATCH('/api/v1/rewrite-rule-sets/{id}', {
        params: { path: { id: set.id } },
        body: { name: v.name, description: textOrNull(v.description) },
      }),
    ),
  );
  const err = form.formState.errors;
  return (
    <EditPanel
      title={`Edit rule set ${set.name}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={onDone}
      error={save.error}
      saving={save.isPending}
    >
      <TextInput label="Rule set name" {...form.register('name')} error={err.name?.message} />
      <TextInput label="Description" {...form.register('description')} error={err.description?.message} />
    </EditPanel>
  );
}

function RuleEditor(props: { ruleSetId: string; rule: Rule; onDone: () => void }) {
  const { rule } = props;
  const api = useApi();
  const form = useForm({
    resolver: zodResolver(RewriteRuleEditForm),
    defaultValues: {
      direction: rule.direction,
      field: rule.field,
      matchPattern: rule.matchPattern,
      replacement: rule.replacement,
      priority: String(rule.priority),
      enabled: rule.enabled,
    },
  });
  const save = useSaveThenClose(
    ['rewrite-rules', props.ruleSetId],
    props.onDone,
    async (v: z.infer<typeof RewriteRuleEditForm>) =>
      unwrap(
        await api.PATCH('/api/v1/rewrite-rule-sets/{ruleSetId}/rules/{id}', {
          params: { path: { ruleSetId: props.ruleSetId, id: rule.id } },
          body: { ...v, priority: Number(v.priority) },
        }),
      ),
  );
  const err = form.formState.errors;
  return (
    <EditPanel
      title={`Edit rule ${rule.matchPattern}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={props.onDone}
      error={save.error}
      saving={save.isPending}
    >
      <NativeSelect
        label="Rule direction"
        {...form.register('direction')}
        data={DIRECTIONS.map((d) => ({ value: d, label: d.replaceAll('_', ' ') }))}
      />
      <NativeSelect label="Rule field" {...form.register('field')} data={['callee', 'caller']} />
      <TextInput label="Rule pattern" {...form.register('matchPattern')} error={err.matchPattern?.message} />
      <TextInput
        label="Rule replacement"
        {...form.register('replacement')}
        error={err.replacement?.message}
      />
      <TextInput
        label="Rule priority"
        inputMode="numeric"
        {...form.register('priority')}
        error={err.priority?.message}
      />
      <Checkbox label="Enabled" {...form.register('enabled')} />
    </EditPanel>
  );
}

function field(form: FormData, name: string): string {
  return String(form.get(name) ?? '');
}

/** Rule sets, their rules, and a tester that shows what each rule does to a number. */
export function RewriteRulesPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [ruleSetId, setRuleSetId] = useState('');
  const [result, setResult] = useState<TestResult | null>(null);
  const [editing, setEditing] = useState<{ kind: 'set'; set: RuleSet } | { kind: 'rule'; rule: Rule } | null>(
    null,
  );
  const done = () => setEditing(null);
  const sets = useQuery({
    queryKey: ['rewrite-rule-sets'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/rewrite-rule-sets', { params: { query: { perPage: 500 } } })),
  });
  const current = ruleSetId || sets.data?.items[0]?.id || '';
  const currentSet = sets.data?.items.find((s) => s.id === current);
  const rules = usePagedList(
    ['rewrite-rules', current],
    async (query) =>
      unwrap(
        await api.GET('/api/v1/rewrite-rule-sets/{ruleSetId}/rules', {
          params: { path: { ruleSetId: current }, query },
        }),
      ),
    { defaultSort: 'direction,field,priority', enabled: current !== '' },
  );
  const resellers = useResellers();
  const createSet = useMutation({
    mutationFn: async ({ name, resellerId }: { name: string; resellerId: string }) =>
      unwrap(
        await api.POST('/api/v1/rewrite-rule-sets', {
          body: { name, ...(resellerId ? { resellerId } : {}) },
        }),
      ),
    onSuccess: (set) => {
      setRuleSetId(set.id);
      return queryClient.invalidateQueries({ queryKey: ['rewrite-rule-sets'] });
    },
  });
  const createRule = useMutation({
    mutationFn: async (body: {
      direction: Direction;
      field: Field;
      matchPattern: string;
      replacement: string;
      priority: number;
    }) =>
      unwrap(
        await api.POST('/api/v1/rewrite-rule-sets/{ruleSetId}/rules', {
          params: { path: { ruleSetId: current } },
          body,
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['rewrite-rules', current] }),
  });
  const test = useMutation({
    mutationFn: async (body: { direction: Direction; field: Field; value: string }) =>
      unwrap(
        await api.POST('/api/v1/rewrite-rule-sets/{id}/test', { params: { path: { id: current } }, body }),
      ),
    onSuccess: setResult,
  });
  function submit(handler: (form: FormData, clear: () => void) => void) {
    return (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      const el = event.currentTarget;
      // A create form empties once the record is saved; a failed one keeps what was typed.
      handler(new FormData(el), () => el.reset());
    };
  }
  const directionOptions = DIRECTIONS.map((d) => ({ value: d, label: d.replaceAll('_', ' ') }));
  return (
    <Stack>
      <Title order={1}>Rewrite rules</Title>
      <Group align="flex-end">
        <NativeSelect
          label="Rule set"
          value={current}
          onChange={(e) => {
            setRuleSetId(e.currentTarget.value);
            setEditing(null);
          }}
          data={
            sets.data?.items.length === 0
              ? [{ value: '', label: 'None yet: add a rule set' }]
              : (sets.data?.items ?? []).map((s) => ({ value: s.id, label: s.name }))
          }
        />
        {currentSet && (
          <>
            <EditButton
              what={`rule set ${currentSet.name}`}
              onClick={() => setEditing({ kind: 'set', set: currentSet })}
            />
            <DeleteButton
              what={`rule set ${currentSet.name}`}
              path={`/api/v1/rewrite-rule-sets/${currentSet.id}`}
              onDeleted={() => {
                setRuleSetId('');
                return queryClient.invalidateQueries({ queryKey: ['rewrite-rule-sets'] });
              }}
            />
          </>
        )}
        <form
          onSubmit={submit((f, clear) =>
            createSet.mutate(
              { name: field(f, 'name'), resellerId: field(f, 'resellerId') },
              { onSuccess: clear },
            ),
          )}
          aria-label="New rule set"
        >
          <Group align="flex-end">
            <TextInput label="New rule set name" name="name" required />
            {resellers.operator && (
              <NativeSelect
                label="For reseller"
                name="resellerId"
                data={recordOptions(resellers.items, 'Every reseller (shared)', 'Every reseller (shared)')}
              />
            )}
            <Button type="submit" variant="light">
              Add rule set
            </Button>
          </Group>
        </form>
      </Group>
      <FormAlert error={createSet.error} />
      {editing?.kind === 'set' && <RuleSetEditor key={editing.set.id} set={editing.set} onDone={done} />}
      {current && (
        <>
          <Card withBorder>
            <form
              aria-label="New rule"
              onSubmit={submit((f, clear) =>
                createRule.mutate(
                  {
                    direction: field(f, 'direction') as Direction,
                    field: field(f, 'field') as Field,
                    matchPattern: field(f, 'matchPattern'),
                    replacement: field(f, 'replacement'),
                    priority: Number(field(f, 'priority') || 100),
                  },
                  { onSuccess: clear },
                ),
              )}
            >
              <Stack>
                <Title order={2} size="h4">
                  New rule
                </Title>
                <RewritePatternHelp />
                <FormAlert error={createRule.error} />
                <Group align="flex-end">
                  <NativeSelect label="Direction" name="direction" data={directionOptions} />
                  <NativeSelect label="Field" name="field" data={['callee', 'caller']} />
                  <TextInput
                    label="Match pattern"
                    name="matchPattern"
                    required
                    placeholder="^0(\d+)$"
                    description="Regular expression"
                  />
                  <TextInput
                    label="Replacement"
                    name="replacement"
                    required
                    placeholder="${cc}$1"
                    description="$1 = first ( ) group"
                  />
                  <TextInput label="Priority" name="priority" type="number" defaultValue="100" w={100} />
                  <Button type="submit">Add rule</Button>
                </Group>
              </Stack>
            </form>
          </Card>
          {editing?.kind === 'rule' && (
            <RuleEditor key={editing.rule.id} ruleSetId={current} rule={editing.rule} onDone={done} />
          )}
          <RecordTable
            caption="Rules"
            what="rules"
            basePath={`/api/v1/rewrite-rule-sets/${current}/rules`}
            name={(r) => `rule ${r.matchPattern}`}
            list={rules}
            onChanged={() => queryClient.invalidateQueries({ queryKey: ['rewrite-rules', current] })}
            toggle={{ enable: { enabled: true }, disable: { enabled: false } }}
            empty="This set has no rules."
            columns={[
              { header: 'Direction', cell: (r) => r.direction.replaceAll('_', ' '), sortKey: 'direction' },
              { header: 'Field', cell: (r) => r.field, sortKey: 'field' },
              { header: 'Priority', cell: (r) => r.priority, sortKey: 'priority' },
              { header: 'Match', cell: (r) => <code>{r.matchPattern}</code> },
              { header: 'Replace', cell: (r) => <code>{r.replacement}</code> },
              { header: 'Enabled', cell: (r) => (r.enabled ? 'yes' : 'no') },
            ]}
            actions={(r) => (
              <EditButton
                what={`rule ${r.matchPattern}`}
                onClick={() => setEditing({ kind: 'rule', rule: r })}
              />
            )}
          />
          <Card withBorder>
            <form
              aria-label="Rule tester"
              onSubmit={submit((f) =>
                test.mutate({
                  direction: field(f, 'direction') as Direction,
                  field: field(f, 'field') as Field,
                  value: field(f, 'value'),
                }),
              )}
            >
              <Stack>
                <Title order={2} size="h4">
                  Try a number
                </Title>
                <FormAlert error={test.error} />
                <Group align="flex-end">
                  <NativeSelect label="Tester direction" name="direction" data={directionOptions} />
                  <NativeSelect label="Tester field" name="field" data={['callee', 'caller']} />
                  <TextInput label="Number" name="value" required />
                  <Button type="submit">Test</Button>
                </Group>
              </Stack>
            </form>
            {result && (
              <Stack mt="md">
                <Alert color="blue" role="status" title="Result">
                  {result.input} → <strong data-testid="rewrite-output">{result.output}</strong>
                </Alert>
                <Table aria-label="Rule trace">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th scope="col">Priority</Table.Th>
                      <Table.Th scope="col">Pattern</Table.Th>
                      <Table.Th scope="col">Matched</Table.Th>
                      <Table.Th scope="col">Before</Table.Th>
                      <Table.Th scope="col">After</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {result.trace.map((t) => (
                      <Table.Tr key={t.ruleId}>
                        <Table.Td>{t.priority}</Table.Td>
                        <Table.Td>
                          <code>{t.matchPattern}</code>
                        </Table.Td>
                        <Table.Td>{t.evaluated ? (t.matched ? 'yes' : 'no') : 'not reached'}</Table.Td>
                        <Table.Td>{t.before}</Table.Td>
                        <Table.Td>{t.after}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Stack>
            )}
          </Card>
        </>
      )}
    </Stack>
  );
}
