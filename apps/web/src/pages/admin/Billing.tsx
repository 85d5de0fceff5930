import {
  Badge,
  Button,
  Card,
  FileInput,
  Group,
  NativeSelect,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type ItemOf, type ResponseOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { formatTime } from '../../components/format.ts';

type Profile = ItemOf<'/api/v1/billing-profiles'>;
type ImportResult = ResponseOf<'/api/v1/billing-profiles/{profileId}/decks/import', 'post'>;

/** A `datetime-local` input's value as the API's ISO time. */
const iso = (local: string) => new Date(local).toISOString();
const minutes = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

function NewProfile() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'sell' | 'cost'>('sell');
  const [currency, setCurrency] = useState('EUR');
  const [timeZone, setTimeZone] = useState('UTC');
  const [peakFrom, setPeakFrom] = useState('08:00');
  const [peakTo, setPeakTo] = useState('18:00');
  const create = useMutation({
    mutationFn: async () => {
      // Peak Monday to Friday between the two times; empty times: always peak.
      const peakTimes =
        peakFrom && peakTo
          ? [1, 2, 3, 4, 5].map((weekday) => ({
              weekday,
              startMinute: minutes(peakFrom),
              endMinute: minutes(peakTo),
            }))
          : [];
      return unwrap(
        await api.POST('/api/v1/billing-profiles', { body: { name, kind, currency, timeZone, peakTimes } }),
      );
    },
    onSuccess: () => {
      setName('');
      return queryClient.invalidateQueries({ queryKey: ['billing-profiles'] });
    },
  });
  return (
    <Card withBorder>
      <form
        aria-label="New billing profile"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <Stack>
          <Title order={2} size="h4">
            New billing profile
          </Title>
          <FormAlert error={create.error} />
          <Group align="flex-end">
            <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
            <NativeSelect
              label="Kind"
              value={kind}
              onChange={(e) => setKind(e.currentTarget.value as 'sell' | 'cost')}
              data={[
                { value: 'sell', label: 'Sell (customers, resellers)' },
                { value: 'cost', label: 'Cost (peering groups)' },
              ]}
            />
            <TextInput
              label="Currency"
              value={currency}
              onChange={(e) => setCurrency(e.currentTarget.value)}
              w={90}
            />
            <TextInput
              label="Time zone"
              value={timeZone}
              onChange={(e) => setTimeZone(e.currentTarget.value)}
            />
            <TextInput
              label="Peak Mon-Fri from"
              type="time"
              value={peakFrom}
              onChange={(e) => setPeakFrom(e.currentTarget.value)}
            />
            <TextInput
              label="until"
              type="time"
              value={peakTo}
              onChange={(e) => setPeakTo(e.currentTarget.value)}
            />
            <Button type="submit" loading={create.isPending}>
              Create profile
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

/** The deck versions of a profile, the zones of the newest, and the CSV import (checked first). */
function ProfileDecks({ profile }: { profile: Profile }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [effectiveFrom, setEffectiveFrom] = useState('');
  const [result, setResult] = useState<ImportResult | null>(null);
  const path = { profileId: profile.id };
  const decks = useQuery({
    queryKey: ['billing-profiles', profile.id, 'decks'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/billing-profiles/{profileId}/decks', { params: { path } })),
  });
  const newest = decks.data?.items[0];
  const zones = useQuery({
    queryKey: ['billing-profiles', profile.id, 'zones', newest?.id],
    enabled: newest !== undefined,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/billing-profiles/{profileId}/decks/{id}/zones', {
          params: { path: { profileId: profile.id, id: newest?.id ?? '' } },
        }),
      ),
  });
  const run = useMutation({
    mutationFn: async (apply: boolean) => {
      if (file === null || !effectiveFrom) throw new Error('Choose a CSV file and the date it takes effect');
      return unwrap(
        await api.POST('/api/v1/billing-profiles/{profileId}/decks/import', {
          params: { path },
          body: { csv: await file.text(), effectiveFrom: iso(effectiveFrom), name: file.name, apply },
        }),
      );
    },
    onSuccess: (r) => {
      setResult(r);
      if (r.applied) return queryClient.invalidateQueries({ queryKey: ['billing-profiles', profile.id] });
    },
  });
  return (
    <Card withBorder>
      <Stack>
        <Title order={2} size="h4">
          {profile.name}: rate decks ({profile.kind}, {profile.currency}, {profile.timeZone})
        </Title>
        <Text size="sm">
          Columns: prefix, zone, setup_fee, peak_rate, off_peak_rate (per minute), first_interval,
          next_interval (seconds), effective_from, effective_to. Check a file first; a file with row errors is
          never stored.
        </Text>
        <FormAlert error={run.error} />
        <Group align="flex-end">
          <FileInput label="Deck CSV" accept=".csv,text/csv" value={file} onChange={setFile} w={260} />
          <TextInput
            label="Effective from"
            type="datetime-local"
            value={effectiveFrom}
            onChange={(e) => setEffectiveFrom(e.currentTarget.value)}
          />
          <Button variant="light" onClick={() => run.mutate(false)} loading={run.isPending}>
            Check
          </Button>
          <Button
            onClick={() => run.mutate(true)}
            disabled={!result || result.applied || result.errors.length > 0}
            loading={run.isPending}
          >
            Import as new version
          </Button>
        </Group>
        {result && (
          <Group>
            <Badge color={result.errors.length ? 'red' : 'green'}>
              {result.applied ? 'imported' : result.errors.length ? 'errors' : 'ready'}
            </Badge>
            <Text size="sm">
              {result.rows} rows, {result.valid} valid, {result.zones} zones
            </Text>
          </Group>
        )}
        {result && result.errors.length > 0 && (
          <DataTable
            caption="Row errors"
            rows={result.errors.map((e, i) => ({ id: String(i), ...e }))}
            columns={[
              { header: 'Row', cell: (e) => e.row },
              { header: 'Column', cell: (e) => e.column },
              { header: 'Problem', cell: (e) => e.message },
            ]}
          />
        )}
        <DataTable
          caption="Deck versions"
          rows={decks.data?.items}
          error={decks.error}
          empty="No deck yet: calls of this profile stay unrateable."
          columns={[
            { header: 'Version', cell: (d) => d.version },
            { header: 'Effective from', cell: (d) => formatTime(d.effectiveFrom) },
            { header: 'Rows', cell: (d) => d.rowCount },
            { header: 'File', cell: (d) => d.name ?? '' },
            {
              header: 'Export',
              cell: (d) => (
                <a href={`/api/v1/billing-profiles/${profile.id}/decks/${d.id}/rates?format=csv`} download>
                  CSV
                </a>
              ),
            },
          ]}
        />
        {newest && (
          <DataTable
            caption={`Zones of version ${newest.version}`}
            rows={zones.data?.map((z) => ({ id: z.zone, ...z }))}
            error={zones.error}
            columns={[
              { header: 'Zone', cell: (z) => z.zone },
              { header: 'Prefixes', cell: (z) => z.prefixes },
              { header: 'Peak / min', cell: (z) => range(z.minPeakRate, z.maxPeakRate) },
              { header: 'Off-peak / min', cell: (z) => range(z.minOffPeakRate, z.maxOffPeakRate) },
            ]}
          />
        )}
      </Stack>
    </Card>
  );
}

const range = (min: string, max: string) => (min === max ? min : `${min} – ${max}`);

function Rerate() {
  const api = useApi();
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const rerate = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST('/api/v1/rating/rerate', { body: { from: iso(from), to: iso(to) } })),
  });
  return (
    <Card withBorder>
      <Stack>
        <Title order={2} size="h4">
          Re-rate calls
        </Title>
        <Text size="sm">
          After a profile or deck change: the calls started in the period are priced again.
        </Text>
        <FormAlert error={rerate.error} />
        <Group align="flex-end">
          <TextInput
            label="Since"
            type="datetime-local"
            value={from}
            onChange={(e) => setFrom(e.currentTarget.value)}
          />
          <TextInput
            label="Until"
            type="datetime-local"
            value={to}
            onChange={(e) => setTo(e.currentTarget.value)}
          />
          <Button
            variant="light"
            onClick={() => rerate.mutate()}
            loading={rerate.isPending}
            disabled={!from || !to}
          >
            Re-rate
          </Button>
          {rerate.data && <Text size="sm">{rerate.data.marked} calls queued for rating</Text>}
        </Group>
      </Stack>
    </Card>
  );
}

/** Billing profiles (sell and cost), their rate decks and zones, and re-rating (operators only). */
export function BillingPage() {
  const api = useApi();
  const [selected, setSelected] = useState<Profile | null>(null);
  const profiles = useQuery({
    queryKey: ['billing-profiles'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/billing-profiles', { params: { query: { perPage: 500 } } })),
  });
  return (
    <Stack>
      <Title order={1}>Billing</Title>
      <NewProfile />
      <DataTable
        caption="Billing profiles"
        rows={profiles.data?.items}
        error={profiles.error}
        empty="No billing profiles: calls are not priced."
        columns={[
          { header: 'Name', cell: (p) => p.name },
          { header: 'Kind', cell: (p) => p.kind },
          { header: 'Currency', cell: (p) => p.currency },
          { header: 'Time zone', cell: (p) => p.timeZone },
          { header: 'Peak periods', cell: (p) => p.peakTimes.length },
          {
            header: 'Decks',
            cell: (p) => (
              <Button size="xs" variant="subtle" onClick={() => setSelected(p)}>
                Rates of {p.name}
              </Button>
            ),
          },
        ]}
      />
      {selected && <ProfileDecks key={selected.id} profile={selected} />}
      <Rerate />
    </Stack>
  );
}
