import { Alert, Button, Card, Group, NativeSelect, Stack, Table, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { type ResponseOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';

const DIRECTIONS = ['from_subscriber', 'to_subscriber', 'inbound_from_peer', 'outbound_to_peer'] as const;
type Direction = (typeof DIRECTIONS)[number];
type Field = 'caller' | 'callee';
type TestResult = ResponseOf<'/api/v1/rewrite-rule-sets/{id}/test', 'post'>;

function field(form: FormData, name: string): string {
  return String(form.get(name) ?? '');
}

/** Rule sets, their rules, and a tester that shows what each rule does to a number. */
export function RewriteRulesPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [ruleSetId, setRuleSetId] = useState('');
  const [result, setResult] = useState<TestResult | null>(null);
  const sets = useQuery({
    queryKey: ['rewrite-rule-sets'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/rewrite-rule-sets', { params: { query: { perPage: 500 } } })),
  });
  const current = ruleSetId || sets.data?.items[0]?.id || '';
  const rules = useQuery({
    queryKey: ['rewrite-rules', current],
    enabled: current !== '',
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/rewrite-rule-sets/{ruleSetId}/rules', {
          params: { path: { ruleSetId: current }, query: { perPage: 500, sort: 'direction,field,priority' } },
        }),
      ),
  });
  const createSet = useMutation({
    mutationFn: async (name: string) =>
      unwrap(await api.POST('/api/v1/rewrite-rule-sets', { body: { name } })),
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
  function submit(handler: (form: FormData) => void) {
    return (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      handler(new FormData(event.currentTarget));
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
          onChange={(e) => setRuleSetId(e.currentTarget.value)}
          data={(sets.data?.items ?? []).map((s) => ({ value: s.id, label: s.name }))}
        />
        <form onSubmit={submit((f) => createSet.mutate(field(f, 'name')))} aria-label="New rule set">
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
              aria-label="New rule"
              onSubmit={submit((f) =>
                createRule.mutate({
                  direction: field(f, 'direction') as Direction,
                  field: field(f, 'field') as Field,
                  matchPattern: field(f, 'matchPattern'),
                  replacement: field(f, 'replacement'),
                  priority: Number(field(f, 'priority') || 100),
                }),
              )}
            >
              <Stack>
                <Title order={2} size="h4">
                  New rule
                </Title>
                <FormAlert error={createRule.error} />
                <Group align="flex-end">
                  <NativeSelect label="Direction" name="direction" data={directionOptions} />
                  <NativeSelect label="Field" name="field" data={['callee', 'caller']} />
                  <TextInput label="Match pattern" name="matchPattern" required />
                  <TextInput label="Replacement" name="replacement" required />
                  <TextInput label="Priority" name="priority" type="number" defaultValue="100" w={100} />
                  <Button type="submit">Add rule</Button>
                </Group>
              </Stack>
            </form>
          </Card>
          <DataTable
            caption="Rules"
            rows={rules.data?.items}
            error={rules.error}
            empty="This set has no rules."
            columns={[
              { header: 'Direction', cell: (r) => r.direction.replaceAll('_', ' ') },
              { header: 'Field', cell: (r) => r.field },
              { header: 'Priority', cell: (r) => r.priority },
              { header: 'Match', cell: (r) => <code>{r.matchPattern}</code> },
              { header: 'Replace', cell: (r) => <code>{r.replacement}</code> },
            ]}
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
