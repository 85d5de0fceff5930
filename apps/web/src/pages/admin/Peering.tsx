import { Button, Card, Group, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { type ResponseOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';

type Route = ResponseOf<'/api/v1/peering-groups/test-route', 'post'>;
type Transport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

function submit(handler: (form: FormData) => void) {
  return (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    handler(new FormData(event.currentTarget));
  };
}

const text = (f: FormData, name: string) => String(f.get(name) ?? '').trim();

/** Peering groups with their gateways and routing rules, and the LCR tester. */
export function PeeringPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [groupId, setGroupId] = useState('');
  const [route, setRoute] = useState<Route | null>(null);
  const groups = useQuery({
    queryKey: ['peering-groups'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/peering-groups', { params: { query: { perPage: 500 } } })),
  });
  const current = groupId || groups.data?.items[0]?.id || '';
  const gateways = useQuery({
    queryKey: ['gateways', current],
    enabled: current !== '',
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/peering-groups/{groupId}/gateways', {
          params: { path: { groupId: current } },
        }),
      ),
  });
  const rules = useQuery({
    queryKey: ['peering-rules', current],
    enabled: current !== '',
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/peering-groups/{groupId}/rules', { params: { path: { groupId: current } } }),
      ),
  });
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
          onChange={(e) => setGroupId(e.currentTarget.value)}
          data={(groups.data?.items ?? []).map((g) => ({
            value: g.id,
            label: `${g.name} (priority ${g.priority})`,
          }))}
        />
        <form onSubmit={submit((f) => createGroup.mutate(f))} aria-label="New peering group">
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
      {current && (
        <>
          <Card withBorder>
            <Title order={2} size="h4" mb="sm">
              Gateways
            </Title>
            <form onSubmit={submit((f) => createGateway.mutate(f))} aria-label="New gateway">
              <Stack>
                <FormAlert error={createGateway.error} />
                <Group align="flex-end">
                  <TextInput label="Gateway name" name="name" required />
                  <TextInput label="Host" name="host" required />
                  <TextInput label="Port" name="port" type="number" defaultValue="5060" w={100} />
                  <NativeSelect label="Transport" name="transport" data={['udp', 'tcp', 'tls']} />
                  <Button type="submit">Add gateway</Button>
                </Group>
              </Stack>
            </form>
            <DataTable
              caption="Gateways"
              rows={gateways.data?.items}
              error={gateways.error}
              empty="No gateways in this group."
              columns={[
                { header: 'Name', cell: (r) => r.name },
                { header: 'Address', cell: (r) => `${r.transport}:${r.host}:${r.port}` },
                { header: 'Priority', cell: (r) => r.priority },
                { header: 'Weight', cell: (r) => r.weight },
              ]}
            />
          </Card>
          <Card withBorder>
            <Title order={2} size="h4" mb="sm">
              Routing rules
            </Title>
            <form onSubmit={submit((f) => createRule.mutate(f))} aria-label="New routing rule">
              <Stack>
                <FormAlert error={createRule.error} />
                <Group align="flex-end">
                  <TextInput
                    label="Callee prefix"
                    name="calleePrefix"
                    description="Digits, without +"
                    inputMode="numeric"
                  />
                  <TextInput label="Description" name="description" />
                  <Button type="submit">Add rule</Button>
                </Group>
              </Stack>
            </form>
            <DataTable
              caption="Routing rules"
              rows={rules.data?.items}
              error={rules.error}
              empty="No rules: this group is not used."
              columns={[
                { header: 'Callee prefix', cell: (r) => r.calleePrefix || '(any)' },
                { header: 'Caller pattern', cell: (r) => r.callerPattern ?? '–' },
                { header: 'Priority', cell: (r) => r.priority },
                { header: 'Description', cell: (r) => r.description ?? '–' },
              ]}
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
