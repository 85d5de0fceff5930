import { zodResolver } from '@hookform/resolvers/zod';
import {
  Alert,
  Button,
  Card,
  Group,
  NativeSelect,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { useSession } from '../../auth.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { textField, textOrNull } from '../../components/fields.ts';
import { presenceOf, useSubscribersInCall } from '../../components/PresenceDot.tsx';
import { phoneListeners, type SipConnectionInfo } from '../../components/provisioning.ts';
import { PhoneCard, passwordKey } from './PhoneCard.tsx';

/** Server, ports and transports every phone of this platform connects to. */
function ConnectionDetails({ connection }: { connection: SipConnectionInfo | undefined }) {
  const listeners = phoneListeners(connection);
  return (
    <Card withBorder>
      <Stack gap="xs">
        <Title order={2} size="h4">
          Connection details
        </Title>
        {!connection?.host || listeners.length === 0 ? (
          <Text c="dimmed">Your provider has not published the server address; ask them.</Text>
        ) : (
          <Table aria-label="Connection details" w="fit-content">
            <Table.Tbody>
              <Table.Tr>
                <Table.Th>Server / outbound proxy</Table.Th>
                <Table.Td>{connection.host}</Table.Td>
              </Table.Tr>
              {listeners.map((l) => (
                <Table.Tr key={l.transport}>
                  <Table.Th>{l.transport.toUpperCase()}</Table.Th>
                  <Table.Td>port {l.port}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
    </Card>
  );
}

/** A customer's new phone: the API's rules for a subscriber it creates. */
export const AddPhoneForm = z.object({
  domainId: textField('createSubscriber', 'domainId', { required: 'Choose a domain' }),
  username: textField('createSubscriber', 'username', {
    required: 'Choose a SIP user name',
    invalid: "Not a SIP user name (letters, digits and -_.!~*'()&=+$,;?/)",
  }),
  displayName: textField('createSubscriber', 'displayName'),
});

/** Adds a phone (a SIP account) within the customer's limit. */
function AddPhone(props: {
  used: number;
  max: number | null | undefined;
  defaultDomainId: string | undefined;
}) {
  const { used, max } = props;
  const api = useApi();
  const queryClient = useQueryClient();
  const domains = useQuery({
    queryKey: ['domains', 'portal'],
    queryFn: async () => unwrap(await api.GET('/api/v1/domains', { params: { query: { perPage: 100 } } })),
  });
  // The domain of the phones the customer has already is the likely choice.
  const form = useForm({
    resolver: zodResolver(AddPhoneForm),
    defaultValues: { domainId: props.defaultDomainId ?? '', username: '', displayName: '' },
  });
  // The options arrive after the select is registered, so the choice is set again once they are there;
  // without a phone yet, the first domain offered is the choice.
  const firstDomain = domains.data?.items[0]?.id;
  useEffect(() => {
    if (firstDomain !== undefined) form.setValue('domainId', form.getValues('domainId') || firstDomain);
  }, [firstDomain, form]);
  const add = useMutation({
    mutationFn: async (v: z.infer<typeof AddPhoneForm>) =>
      unwrap(
        await api.POST('/api/v1/subscribers', {
          body: { domainId: v.domainId, username: v.username, displayName: textOrNull(v.displayName) },
        }),
      ),
    onSuccess: async (created) => {
      sessionStorage.setItem(passwordKey(created.id), created.password);
      form.reset({ domainId: form.getValues('domainId'), username: '', displayName: '' });
      await queryClient.invalidateQueries({ queryKey: ['subscribers', 'mine'] });
    },
  });
  const err = form.formState.errors;
  const full = max !== null && max !== undefined && used >= max;
  return (
    <Card withBorder>
      <form aria-label="Add a phone" onSubmit={form.handleSubmit((v) => add.mutate(v))} noValidate>
        <Stack gap="xs">
          <Title order={2} size="h4">
            Add a phone
          </Title>
          <Text size="sm" c="dimmed">
            {max === null || max === undefined
              ? `${used} phone${used === 1 ? '' : 's'}; your contract sets no limit.`
              : `${used} of ${max} phones your contract allows.`}
          </Text>
          <FormAlert error={add.error} />
          <Group align="flex-end" wrap="wrap">
            <NativeSelect
              label="Domain"
              data={(domains.data?.items ?? []).map((d) => ({ value: d.id, label: d.name }))}
              {...form.register('domainId')}
              error={err.domainId?.message}
            />
            <TextInput
              label="SIP user name"
              required
              {...form.register('username')}
              error={err.username?.message}
            />
            <TextInput
              label="Name on the phone"
              {...form.register('displayName')}
              error={err.displayName?.message}
            />
            <Button type="submit" loading={add.isPending} disabled={full}>
              Add phone
            </Button>
          </Group>
          {full && (
            <Text size="sm">You have all the phones your contract allows; ask your provider for more.</Text>
          )}
        </Stack>
      </form>
    </Card>
  );
}

export function MySubscribersPage() {
  const api = useApi();
  const session = useSession();
  const customerId = session.me?.customerId ?? '';
  const notice = session.notice;
  const subscribers = useQuery({
    queryKey: ['subscribers', 'mine'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/subscribers', { params: { query: { perPage: 100 } } })),
    // The status dots follow registrations.
    refetchInterval: 10_000,
  });
  const inCall = useSubscribersInCall();
  const numbers = useQuery({
    queryKey: ['numbers', 'mine', subscribers.data?.items.length],
    queryFn: async () => unwrap(await api.GET('/api/v1/numbers', { params: { query: { perPage: 100 } } })),
  });
  const customer = useQuery({
    queryKey: ['customer', customerId],
    enabled: customerId !== '',
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/customers/{id}', { params: { path: { id: customerId } } })),
  });
  const connection = useQuery({
    queryKey: ['sip-connection'],
    queryFn: async () => unwrap(await api.GET('/api/v1/sip-connection')),
  });
  const items = subscribers.data?.items ?? [];
  return (
    <Stack>
      <Title order={1}>My phones</Title>
      {notice && (
        <Alert color="blue" role="status">
          {notice}
        </Alert>
      )}
      {customer.data?.status === 'locked' && (
        <Alert color="orange" title="Phone service is off">
          Calls start working once you confirm your e-mail address with the link we sent you (or once your
          provider unlocks your account).
        </Alert>
      )}
      {subscribers.error && <Alert color="red">{subscribers.error.message}</Alert>}
      <ConnectionDetails connection={connection.data} />
      {items.map((s) => (
        <PhoneCard
          key={s.id}
          subscriber={s}
          numbers={(numbers.data?.items ?? []).filter((n) => n.subscriberId === s.id)}
          connection={connection.data}
          presence={presenceOf(s.online, s.id, inCall)}
        />
      ))}
      {subscribers.data && (
        <AddPhone
          used={items.length}
          max={customer.data?.maxSubscribers}
          defaultDomainId={items[0]?.domainId}
        />
      )}
    </Stack>
  );
}
