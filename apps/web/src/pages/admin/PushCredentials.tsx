import { Button, Card, Group, NativeSelect, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ChangeEvent, type FormEvent, useState } from 'react';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { formatTime } from '../../components/format.ts';

type Credential = ItemOf<'/api/v1/push-credentials'>;
type Provider = Credential['provider'];

const SERVICE: Record<Provider, string> = { apns: 'APNs (iOS)', fcm: 'FCM (Android)' };

/** The fields of an upload; the API checks them and names a bad one. */
interface Upload {
  teamId: string;
  keyId: string;
  bundleId: string;
  privateKey: string;
  environment: string;
  serviceAccount: string;
}

const EMPTY: Upload = {
  teamId: '',
  keyId: '',
  bundleId: '',
  privateKey: '',
  environment: 'production',
  serviceAccount: '',
};

function bodyOf(provider: Provider, v: Upload) {
  return provider === 'apns'
    ? {
        teamId: v.teamId.trim(),
        keyId: v.keyId.trim(),
        bundleId: v.bundleId.trim(),
        privateKey: v.privateKey,
        environment: v.environment === 'sandbox' ? ('sandbox' as const) : ('production' as const),
      }
    : { serviceAccount: v.serviceAccount };
}

/** Reads a chosen file's text into a field: keys are small PEM or JSON files. */
function readInto(set: (text: string) => void) {
  return (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.currentTarget.files?.[0];
    if (file) void file.text().then(set);
  };
}

/**
 * Upload (or, with `replacing`, replace) a domain's credentials for one service. The key is sent once
 * and never shown again: the API seals it and answers only the ids that identify it.
 */
function CredentialForm(props: {
  domains: { id: string; name: string }[];
  replacing: Credential | null;
  domainName: (id: string) => string;
  onDone: () => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const { replacing } = props;
  const [domainId, setDomainId] = useState(replacing?.domainId ?? '');
  const [provider, setProvider] = useState<Provider>(replacing?.provider ?? 'apns');
  const [v, setV] = useState<Upload>(EMPTY);
  const field = (name: keyof Upload) => (text: string) => setV((old) => ({ ...old, [name]: text }));
  const save = useMutation({
    mutationFn: async () =>
      replacing
        ? unwrap(
            await api.PATCH('/api/v1/push-credentials/{id}', {
              params: { path: { id: replacing.id } },
              body: bodyOf(replacing.provider, v),
            }),
          )
        : unwrap(
            await api.POST('/api/v1/push-credentials', {
              body: { domainId: domainId || (props.domains[0]?.id ?? ''), provider, ...bodyOf(provider, v) },
            }),
          ),
    onSuccess: async () => {
      setV(EMPTY);
      await queryClient.invalidateQueries({ queryKey: ['push-credentials'] });
      props.onDone();
    },
  });
  const title = replacing
    ? `Replace ${SERVICE[replacing.provider]} credentials of ${props.domainName(replacing.domainId)}`
    : 'Upload push credentials';
  const service = replacing?.provider ?? provider;
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <Card withBorder>
      <form onSubmit={onSubmit} noValidate aria-label={title}>
        <Stack>
          <Title order={2} size="h4">
            {title}
          </Title>
          <FormAlert error={save.error} />
          {!replacing && (
            <Group align="flex-end">
              <NativeSelect
                label="Domain"
                value={domainId || (props.domains[0]?.id ?? '')}
                onChange={(e) => setDomainId(e.currentTarget.value)}
                data={props.domains.map((d) => ({ value: d.id, label: d.name }))}
              />
              <NativeSelect
                label="Service"
                value={provider}
                onChange={(e) => setProvider(e.currentTarget.value as Provider)}
                data={[
                  { value: 'apns', label: SERVICE.apns },
                  { value: 'fcm', label: SERVICE.fcm },
                ]}
              />
            </Group>
          )}
          {service === 'apns' ? (
            <>
              <Group align="flex-end">
                <TextInput
                  label="Team ID"
                  value={v.teamId}
                  onChange={(e) => field('teamId')(e.target.value)}
                />
                <TextInput label="Key ID" value={v.keyId} onChange={(e) => field('keyId')(e.target.value)} />
                <TextInput
                  label="Bundle ID"
                  description="Of the iOS app, without .voip"
                  value={v.bundleId}
                  onChange={(e) => field('bundleId')(e.target.value)}
                />
                <NativeSelect
                  label="APNs environment"
                  value={v.environment}
                  onChange={(e) => field('environment')(e.currentTarget.value)}
                  data={[
                    { value: 'production', label: 'Production (App Store, TestFlight)' },
                    { value: 'sandbox', label: 'Sandbox (development builds)' },
                  ]}
                />
              </Group>
              <label>
                <Text size="sm">Key file (.p8)</Text>
                <input type="file" accept=".p8,text/plain" onChange={readInto(field('privateKey'))} />
              </label>
              <Textarea
                label="Private key"
                description="Content of AuthKey_<key id>.p8; pick the file or paste it"
                autosize
                minRows={3}
                value={v.privateKey}
                onChange={(e) => field('privateKey')(e.target.value)}
              />
            </>
          ) : (
            <>
              <label>
                <Text size="sm">Service account file (.json)</Text>
                <input
                  type="file"
                  accept=".json,application/json"
                  onChange={readInto(field('serviceAccount'))}
                />
              </label>
              <Textarea
                label="Service account"
                description="The Firebase project's service-account JSON; pick the file or paste it"
                autosize
                minRows={3}
                value={v.serviceAccount}
                onChange={(e) => field('serviceAccount')(e.target.value)}
              />
            </>
          )}
          <Group>
            <Button type="submit" loading={save.isPending}>
              {replacing ? 'Replace credentials' : 'Upload credentials'}
            </Button>
            {replacing && (
              <Button variant="default" onClick={props.onDone}>
                Cancel
              </Button>
            )}
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

/** The settings the API shows, in the order an operator reads them off the Apple or Google console. */
const SETTING_LABELS: [string, string][] = [
  ['teamId', 'Team ID'],
  ['keyId', 'Key ID'],
  ['bundleId', 'Bundle ID'],
  ['environment', 'APNs'],
  ['projectId', 'Project'],
  ['clientEmail', 'Service account'],
  ['privateKeyId', 'Key ID'],
];

/** What identifies a stored key (never the key itself). */
function describeSettings(settings: Record<string, string>): string {
  return SETTING_LABELS.filter(([name]) => settings[name] !== undefined)
    .map(([name, label]) => `${label} ${settings[name]}`)
    .join(', ');
}

/**
 * The APNs and FCM credentials of each domain the user manages: upload, replace, delete. Changes apply
 * from the next push on, on every node.
 */
export function PushCredentialsSection() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [replacing, setReplacing] = useState<Credential | null>(null);
  const domains = useQuery({
    queryKey: ['domains'],
    queryFn: async () => unwrap(await api.GET('/api/v1/domains', { params: { query: { perPage: 500 } } })),
  });
  const credentials = useQuery({
    queryKey: ['push-credentials'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/push-credentials', { params: { query: { perPage: 500 } } })),
  });
  const remove = useMutation({
    mutationFn: async (id: string) => {
      const res = await api.DELETE('/api/v1/push-credentials/{id}', { params: { path: { id } } });
      if (!res.response.ok) unwrap(res);
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['push-credentials'] }),
  });
  const domainList = domains.data?.items ?? [];
  const domainName = (id: string) => domainList.find((d) => d.id === id)?.name ?? id;
  const label = (r: Credential) => `${SERVICE[r.provider]} credentials of ${domainName(r.domainId)}`;
  return (
    <Stack>
      <Title order={2}>Push credentials</Title>
      <Text c="dimmed" size="sm">
        Each domain's iOS (APNs token key) and Android (FCM service account) apps. Keys are stored encrypted
        and never shown again after the upload.
      </Text>
      <CredentialForm
        key={replacing?.id ?? 'new'}
        domains={domainList}
        replacing={replacing}
        domainName={domainName}
        onDone={() => setReplacing(null)}
      />
      <FormAlert error={remove.error} />
      <DataTable
        caption="Push credentials"
        rows={credentials.data?.items}
        error={credentials.error}
        empty="No push credentials uploaded."
        columns={[
          { header: 'Domain', cell: (r) => domainName(r.domainId) },
          { header: 'Service', cell: (r) => SERVICE[r.provider] },
          { header: 'Identifies the key', cell: (r) => describeSettings(r.settings) },
          { header: 'Updated', cell: (r) => formatTime(r.updatedAt) },
          {
            header: 'Actions',
            cell: (r) => (
              <Group gap="xs">
                <Button
                  size="xs"
                  variant="light"
                  onClick={() => setReplacing(r)}
                  aria-label={`Replace ${label(r)}`}
                >
                  Replace
                </Button>
                <Button
                  size="xs"
                  variant="light"
                  color="red"
                  loading={remove.isPending && remove.variables === r.id}
                  onClick={() => remove.mutate(r.id)}
                  aria-label={`Delete ${label(r)}`}
                >
                  Delete
                </Button>
              </Group>
            ),
          },
        ]}
      />
    </Stack>
  );
}
