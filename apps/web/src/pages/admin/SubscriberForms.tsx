import { zodResolver } from '@hookform/resolvers/zod';
import {
  Alert,
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
import { useState } from 'react';
import { type UseFormRegisterReturn, useForm } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { EditPanel, useSaveThenClose } from '../../components/EditPanel.tsx';
import { FormAlert, problemField } from '../../components/FormAlert.tsx';
import {
  choiceField,
  choices,
  countField,
  fieldText,
  listField,
  numberOrNull,
  STATUSES,
  Status,
  textField,
  textOrNull,
} from '../../components/fields.ts';
import { recordOptions, useRuleSets } from '../../components/options.ts';
import { subscriberRecordingOptions } from '../../components/RecordingSettings.tsx';
import { Copyable } from '../../components/Secret.tsx';

type Subscriber = ItemOf<'/api/v1/subscribers'>;

/** Dialled-number prefixes typed as a list separated by commas or spaces. */
export function prefixList(value: string): string[] {
  return [...new Set(value.split(/[\s,]+/).filter((p) => p !== ''))];
}

/** A list of dialled-number prefixes, checked by the API's item pattern and list limit for `name`. */
function prefixes(
  operation: 'createSubscriber' | 'updateSubscriber',
  name: 'allowedCalleePrefixes' | 'blockedCalleePrefixes',
) {
  return listField(operation, name, prefixList, 'Digits only, separated by commas');
}

/** Empty: keep (edit) or generate (create). The API also refuses common passwords and the user name. */
function sipPassword(operation: 'createSubscriber' | 'updateSubscriber') {
  return textField(operation, 'password', { optional: true, trim: false });
}

/** The SDES-SRTP policies the API takes, in its order (optional first: the default). */
const SRTP_POLICIES = choices('updateSubscriber', 'srtp');
const SrtpPolicy = choiceField('updateSubscriber', 'srtp');

export const SubscriberForm = z.object({
  customerId: textField('createSubscriber', 'customerId', { required: 'Choose a customer' }),
  domainId: textField('createSubscriber', 'domainId', { required: 'Choose a domain' }),
  username: textField('createSubscriber', 'username', {
    required: 'Enter a user name',
    invalid: "Not a SIP user name (letters, digits and -_.!~*'()&=+$,;?/)",
  }),
  displayName: textField('createSubscriber', 'displayName'),
  password: sipPassword('createSubscriber'),
  maxConcurrentCalls: countField('createSubscriber', 'maxConcurrentCalls'),
  rewriteRuleSetId: z.string(),
  clir: z.boolean(),
  srtp: SrtpPolicy,
  allowedCalleePrefixes: prefixes('createSubscriber', 'allowedCalleePrefixes'),
  blockedCalleePrefixes: prefixes('createSubscriber', 'blockedCalleePrefixes'),
});

/** What an operator changes on a subscriber; the user name stays (it is part of the stored digest). */
export const SubscriberEditForm = z.object({
  displayName: textField('updateSubscriber', 'displayName'),
  status: Status,
  maxConcurrentCalls: countField('updateSubscriber', 'maxConcurrentCalls'),
  rewriteRuleSetId: z.string(),
  clir: z.boolean(),
  srtp: SrtpPolicy,
  allowedCalleePrefixes: prefixes('updateSubscriber', 'allowedCalleePrefixes'),
  blockedCalleePrefixes: prefixes('updateSubscriber', 'blockedCalleePrefixes'),
  password: sipPassword('updateSubscriber'),
  /** Empty: the customer's recording settings. */
  recordingMode: z.union([z.literal(''), choiceField('updateSubscriber', 'recordingMode')]),
});

/** The SIP credentials a new phone needs, each with a copy button; a generated password is shown once. */
export function Credentials(props: { title: string; username: string; domain: string; password?: string }) {
  return (
    <Alert color="green" title={props.title} role="status">
      <Stack gap={4}>
        <Group gap="xs">
          <Text size="sm">User name</Text>
          <Copyable label="user name" value={props.username} />
          <Text size="sm">Domain</Text>
          <Copyable label="domain" value={props.domain} />
        </Group>
        {props.password !== undefined && (
          <Group gap="xs">
            <Text size="sm">SIP password (shown once)</Text>
            <Copyable label="SIP password" value={props.password} testId="new-sip-password" />
          </Group>
        )}
      </Stack>
    </Alert>
  );
}

type CallPolicyName =
  | 'maxConcurrentCalls'
  | 'rewriteRuleSetId'
  | 'allowedCalleePrefixes'
  | 'blockedCalleePrefixes'
  | 'clir'
  | 'srtp';

/**
 * The call limits and dialling policy of a subscriber, one set of inputs for the create form and the
 * editor so both offer the same fields under the same labels.
 */
function CallPolicyFields(props: {
  register: (name: CallPolicyName) => UseFormRegisterReturn<CallPolicyName>;
  errors: Partial<Record<CallPolicyName, { message?: string }>>;
  ruleSetOptions: ReturnType<typeof recordOptions>;
}) {
  const { register, errors } = props;
  return (
    <>
      <TextInput
        label="Max. concurrent calls"
        inputMode="numeric"
        {...register('maxConcurrentCalls')}
        error={errors.maxConcurrentCalls?.message}
      />
      <NativeSelect label="Rewrite rule set" {...register('rewriteRuleSetId')} data={props.ruleSetOptions} />
      <TextInput
        label="Allowed callee prefixes"
        {...register('allowedCalleePrefixes')}
        error={errors.allowedCalleePrefixes?.message}
      />
      <TextInput
        label="Blocked callee prefixes"
        {...register('blockedCalleePrefixes')}
        error={errors.blockedCalleePrefixes?.message}
      />
      <Checkbox label="Hide caller number (CLIR)" {...register('clir')} />
      <NativeSelect
        label="Media encryption (SRTP)"
        description="optional: plain RTP offered to the phones; preferred: SRTP offered; mandatory: SRTP only, plain RTP calls refused"
        {...register('srtp')}
        data={[...SRTP_POLICIES]}
      />
    </>
  );
}

export function SubscriberCreateForm() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [created, setCreated] = useState<{ username: string; domain: string; password?: string } | null>(
    null,
  );
  const customers = useQuery({
    queryKey: ['customers'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/customers', { params: { query: { perPage: 500, sort: 'name' } } })),
  });
  const domains = useQuery({
    queryKey: ['domains'],
    queryFn: async () => unwrap(await api.GET('/api/v1/domains', { params: { query: { perPage: 500 } } })),
  });
  const ruleSets = useRuleSets();
  const form = useForm({
    resolver: zodResolver(SubscriberForm),
    defaultValues: {
      customerId: '',
      domainId: '',
      username: '',
      displayName: '',
      password: '',
      maxConcurrentCalls: '',
      rewriteRuleSetId: '',
      clir: false,
      srtp: 'optional' as const,
      allowedCalleePrefixes: '',
      blockedCalleePrefixes: '',
    },
  });
  const create = useMutation({
    mutationFn: async (v: z.infer<typeof SubscriberForm>) => {
      const allowed = prefixList(v.allowedCalleePrefixes);
      const blocked = prefixList(v.blockedCalleePrefixes);
      const limit = numberOrNull(v.maxConcurrentCalls);
      return unwrap(
        await api.POST('/api/v1/subscribers', {
          body: {
            customerId: v.customerId,
            domainId: v.domainId,
            username: v.username,
            displayName: v.displayName || null,
            ...(v.password ? { password: v.password } : {}),
            ...(limit !== null ? { maxConcurrentCalls: limit } : {}),
            ...(v.rewriteRuleSetId ? { rewriteRuleSetId: v.rewriteRuleSetId } : {}),
            ...(v.clir ? { clir: true } : {}),
            ...(v.srtp !== 'optional' ? { srtp: v.srtp } : {}),
            ...(allowed.length > 0 ? { allowedCalleePrefixes: allowed } : {}),
            ...(blocked.length > 0 ? { blockedCalleePrefixes: blocked } : {}),
          },
        }),
      );
    },
    onSuccess: (subscriber, v) => {
      // The password is shown only when the platform generated it; a typed one the operator already has.
      setCreated({
        username: subscriber.username ?? v.username,
        domain: subscriber.domain ?? '',
        ...(v.password ? {} : { password: subscriber.password ?? '' }),
      });
      form.reset();
      return queryClient.invalidateQueries({ queryKey: ['subscribers'] });
    },
  });
  const err = form.formState.errors;
  return (
    <Card withBorder>
      <form onSubmit={form.handleSubmit((v) => create.mutate(v))} noValidate aria-label="New subscriber">
        <Stack>
          <Title order={2} size="h4">
            New subscriber
          </Title>
          <FormAlert error={create.error} />
          {created && <Credentials title="Subscriber created" {...created} />}
          <Group align="flex-end">
            <NativeSelect
              label="Customer"
              {...form.register('customerId')}
              error={err.customerId?.message}
              data={recordOptions(customers.data?.items, 'Create a customer first')}
            />
            <NativeSelect
              label="Domain"
              {...form.register('domainId')}
              error={err.domainId?.message}
              data={recordOptions(domains.data?.items, 'Create a domain first')}
            />
            <TextInput label="User name" {...form.register('username')} error={err.username?.message} />
            <TextInput
              label="Display name"
              {...form.register('displayName')}
              error={err.displayName?.message}
            />
            <PasswordInput
              label="SIP password"
              description="Empty: generate one"
              autoComplete="new-password"
              {...form.register('password')}
              error={err.password?.message}
            />
          </Group>
          <Group align="flex-end">
            <CallPolicyFields
              register={form.register}
              errors={err}
              ruleSetOptions={recordOptions(
                ruleSets.data?.items,
                'None yet (see Rewrite rules)',
                "The domain's",
              )}
            />
            <Button type="submit" loading={create.isPending}>
              Create subscriber
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

export function SubscriberEditor({ subscriber, onDone }: { subscriber: Subscriber; onDone: () => void }) {
  const api = useApi();
  const ruleSets = useRuleSets();
  const form = useForm({
    resolver: zodResolver(SubscriberEditForm),
    defaultValues: {
      displayName: fieldText(subscriber.displayName),
      status: subscriber.status,
      maxConcurrentCalls: fieldText(subscriber.maxConcurrentCalls),
      rewriteRuleSetId: subscriber.rewriteRuleSetId ?? '',
      clir: subscriber.clir,
      srtp: subscriber.srtp,
      allowedCalleePrefixes: subscriber.allowedCalleePrefixes.join(', '),
      blockedCalleePrefixes: subscriber.blockedCalleePrefixes.join(', '),
      password: '',
      recordingMode: subscriber.recordingMode ?? ('' as const),
    },
  });
  const save = useSaveThenClose(['subscribers'], onDone, async (v: z.infer<typeof SubscriberEditForm>) =>
    unwrap(
      await api.PATCH('/api/v1/subscribers/{id}', {
        params: { path: { id: subscriber.id } },
        body: {
          displayName: textOrNull(v.displayName),
          status: v.status,
          maxConcurrentCalls: numberOrNull(v.maxConcurrentCalls),
          rewriteRuleSetId: v.rewriteRuleSetId || null,
          clir: v.clir,
          srtp: v.srtp,
          allowedCalleePrefixes: prefixList(v.allowedCalleePrefixes),
          blockedCalleePrefixes: prefixList(v.blockedCalleePrefixes),
          recordingMode: v.recordingMode || null,
          ...(v.password ? { password: v.password } : {}),
        },
      }),
    ),
  );
  const err = form.formState.errors;
  return (
    <EditPanel
      title={`Edit subscriber ${subscriber.sipUri}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={onDone}
      error={save.error}
      saving={save.isPending}
    >
      <TextInput label="Display name" {...form.register('displayName')} error={err.displayName?.message} />
      <NativeSelect label="Status" {...form.register('status')} data={[...STATUSES]} />
      <CallPolicyFields
        register={form.register}
        errors={err}
        ruleSetOptions={recordOptions(ruleSets.data?.items, "The domain's", "The domain's")}
      />
      <NativeSelect
        label="Call recording"
        {...form.register('recordingMode')}
        data={subscriberRecordingOptions("The customer's setting")}
        error={err.recordingMode?.message ?? problemField(save.error, 'recordingMode')}
      />
      <PasswordInput
        label="New SIP password"
        description="Empty: keep the current one. Phones must then be updated."
        autoComplete="new-password"
        {...form.register('password')}
        error={err.password?.message}
      />
    </EditPanel>
  );
}
