import { Alert, Badge, Button, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ResponseOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { formatTime } from '../../components/format.ts';
import { usePagedList } from '../../components/paging.ts';
import { RecordTable } from '../../components/RecordTable.tsx';
import { PushCredentialsSection } from './PushCredentials.tsx';

type TestResult = ResponseOf<'/api/v1/push-bindings/{id}/test', 'post'>;

/** What the push service answered, in words an operator can act on. */
function describeResult(result: TestResult): string {
  if (result.outcome === 'delivered') return 'delivered';
  const detail = [result.status !== undefined ? `HTTP ${result.status}` : '', result.reason ?? '']
    .filter(Boolean)
    .join(', ');
  const words: Record<Exclude<TestResult['outcome'], 'delivered'>, string> = {
    unregistered: 'the app is gone from the device; the binding was removed',
    rate_limited: 'rate limited by the push service, try again later',
    rejected: 'rejected (credentials or app do not match)',
    failed: 'failed',
  };
  return `${words[result.outcome]}${detail ? ` (${detail})` : ''}`;
}

/**
 * Devices registered with RFC 8599 push parameters (mobile apps), their last push, and a button that
 * sends a test push: it checks the domain's credentials and the device token without a call. The
 * domains' push credentials are managed below the devices.
 */
export function PushDevicesPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const bindings = usePagedList(
    ['push-bindings'],
    async (query) => unwrap(await api.GET('/api/v1/push-bindings', { params: { query } })),
    { defaultSort: 'aor' },
  );
  const test = useMutation({
    mutationFn: async (binding: { id: string; aor: string }) => ({
      aor: binding.aor,
      result: unwrap(
        await api.POST('/api/v1/push-bindings/{id}/test', { params: { path: { id: binding.id } } }),
      ),
    }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['push-bindings'] }),
  });
  return (
    <Stack>
      <Title order={1}>Push devices</Title>
      <Text c="dimmed" size="sm">
        Mobile apps registered for push notifications (APNs, FCM). Calls to an app that is asleep wake it with
        a push first.
      </Text>
      <FormAlert error={test.error} />
      {test.data && (
        <Alert
          role="status"
          color={test.data.result.outcome === 'delivered' ? 'green' : 'orange'}
          title={`Test push to ${test.data.aor}`}
        >
          {describeResult(test.data.result)}
        </Alert>
      )}
      <RecordTable
        caption="Push devices"
        what="push devices"
        basePath="/api/v1/push-bindings"
        name={(r) => `${r.aor} …${r.deviceTokenEnd}`}
        list={bindings}
        // Bindings come and go with the devices' REGISTERs: nothing here to delete or select.
        editable={false}
        onChanged={() => queryClient.invalidateQueries({ queryKey: ['push-bindings'] })}
        empty="No device is registered for push."
        columns={[
          { header: 'Address of record', cell: (r) => r.aor, sortKey: 'aor' },
          { header: 'Service', cell: (r) => <Badge variant="light">{r.pnProvider}</Badge> },
          { header: 'App', cell: (r) => r.pnParam ?? '–' },
          { header: 'Device token', cell: (r) => `…${r.deviceTokenEnd}` },
          { header: 'Expires', cell: (r) => formatTime(r.expiresAt), sortKey: 'expiresAt' },
          {
            header: 'Last push',
            cell: (r) => (r.lastPushAt ? formatTime(r.lastPushAt) : 'never'),
            sortKey: 'pushLastAt',
          },
          { header: 'Last result', cell: (r) => r.lastPushResult ?? '–' },
        ]}
        actions={(r) => (
          <Button
            size="xs"
            variant="light"
            loading={test.isPending && test.variables?.id === r.id}
            onClick={() => test.mutate({ id: r.id, aor: r.aor })}
            aria-label={`Send test push to ${r.aor} …${r.deviceTokenEnd}`}
          >
            Send test push
          </Button>
        )}
      />
      <PushCredentialsSection />
    </Stack>
  );
}
