import { Button, Group, Table, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { FormAlert } from './FormAlert.tsx';

/**
 * The operator's high-risk destination prefixes (docs/billing.md, "Fraud limits"): a call to one is
 * alerted at call start, or refused for a customer that blocks them. Resellers see the list; only the
 * operator (`editable`) adds and removes prefixes.
 */
export function HighRiskPrefixes({ editable }: { editable: boolean }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [prefix, setPrefix] = useState('');
  const [note, setNote] = useState('');
  const list = useQuery({
    queryKey: ['high-risk-prefixes'],
    queryFn: async () => unwrap(await api.GET('/api/v1/high-risk-prefixes')),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['high-risk-prefixes'] });
  const add = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST('/api/v1/high-risk-prefixes', { body: { prefix, note: note || null } })),
    onSuccess: () => {
      setPrefix('');
      setNote('');
      return refresh();
    },
  });
  const remove = useMutation({
    mutationFn: async (p: string) => {
      const { error } = await api.DELETE('/api/v1/high-risk-prefixes/{prefix}', {
        params: { path: { prefix: p } },
      });
      if (error) throw new Error('The prefix was not removed');
    },
    onSuccess: refresh,
  });
  return (
    <>
      <Title order={2} size="h3">
        High-risk destinations
      </Title>
      {editable ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate();
          }}
        >
          <Group align="end">
            <TextInput
              label="Prefix"
              placeholder="882"
              value={prefix}
              onChange={(e) => setPrefix(e.currentTarget.value)}
            />
            <TextInput label="Note" value={note} onChange={(e) => setNote(e.currentTarget.value)} />
            <Button type="submit" loading={add.isPending}>
              Add prefix
            </Button>
          </Group>
        </form>
      ) : null}
      <FormAlert error={add.error ?? remove.error} />
      <Table aria-label="High-risk prefixes">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Prefix</Table.Th>
            <Table.Th>Note</Table.Th>
            {editable ? <Table.Th /> : null}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(list.data?.items ?? []).map((p) => (
            <Table.Tr key={p.prefix}>
              <Table.Td>+{p.prefix}</Table.Td>
              <Table.Td>{p.note ?? ''}</Table.Td>
              {editable ? (
                <Table.Td>
                  <Button size="xs" variant="subtle" color="red" onClick={() => remove.mutate(p.prefix)}>
                    Remove +{p.prefix}
                  </Button>
                </Table.Td>
              ) : null}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </>
  );
}
