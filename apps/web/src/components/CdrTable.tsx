import { Anchor, Button, Group, NativeSelect, Stack, TextInput } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { asJson, unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { useSession } from '../auth.tsx';
import { DataTable } from './DataTable.tsx';
import { dialled, formatDuration, formatTime } from './format.ts';
import { usePagedList } from './paging.ts';

const DISPOSITIONS = ['answered', 'busy', 'no_answer', 'cancelled', 'rejected', 'failed'] as const;
type Disposition = (typeof DISPOSITIONS)[number];
const DIRECTIONS = ['internal', 'outbound', 'inbound'] as const;
type Direction = (typeof DIRECTIONS)[number];

interface Priced {
  ratingStatus: string;
  customerPrice: string | null;
  customerCurrency: string | null;
  resellerPrice: string | null;
  resellerCurrency: string | null;
  carrierCost: string | null;
  carrierCurrency: string | null;
}

/** A rated amount with its currency; an unrated or unrateable call says so. */
function price(amount: string | null, currency: string | null, status: string): string {
  if (status === 'unrated') return 'pending';
  if (!amount) return status === 'unrateable' ? 'unrateable' : '';
  return `${amount.replace(/(\.\d{2}\d*?)0+$/, '$1')} ${currency ?? ''}`.trim();
}

/** A `datetime-local` input's value as the API's ISO time, or nothing. */
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** The customers an operator or reseller may narrow the call list to. */
function useCustomerChoices(enabled: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: ['customers', 'choices'],
    enabled,
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/customers', { params: { query: { perPage: 500, sort: 'name' } } })),
  });
}

/**
 * Call detail records, one server-side page at a time, with the API's filters (number, outcome, direction,
 * time range, customer) and CSV export of everything matching; the API scopes them to the user's tenant.
 */
export function CdrTable() {
  const api = useApi();
  const role = useSession().me?.role;
  // The engine's capture of the last hour's calls: a SIP ladder per call, for operators.
  const operator = role === 'operator';
  const provider = role === 'operator' || role === 'reseller';
  const [number, setNumber] = useState('');
  const [disposition, setDisposition] = useState<Disposition | ''>('');
  const [direction, setDirection] = useState<Direction | ''>('');
  const [from, setFrom] = useState('');
  const [until, setUntil] = useState('');
  const [customerId, setCustomerId] = useState('');
  const customers = useCustomerChoices(provider);
  const filters = {
    ...(number.trim() ? { number: number.trim() } : {}),
    ...(disposition ? { disposition } : {}),
    ...(direction ? { direction } : {}),
    ...(from ? { from: iso(from) } : {}),
    ...(until ? { to: iso(until) } : {}),
    ...(customerId ? { customerId } : {}),
  };
  const cdrs = usePagedList(
    ['cdrs'],
    async (query) => asJson(unwrap(await api.GET('/api/v1/cdrs', { params: { query } }))),
    { defaultSort: '-startedAt', perPage: 50, filters },
  );
  async function exportCsv() {
    const params = new URLSearchParams({ ...(filters as Record<string, string>), format: 'csv' });
    // A plain GET: the session cookie goes along by itself.
    const res = await fetch(`/api/v1/cdrs?${params}`, { credentials: 'same-origin' });
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = 'cdrs.csv';
    a.click();
    URL.revokeObjectURL(url);
  }
  return (
    <Stack>
      <Group align="flex-end">
        <TextInput
          label="Number or user contains"
          value={number}
          onChange={(e) => setNumber(e.currentTarget.value)}
        />
        <NativeSelect
          label="Outcome"
          value={disposition}
          onChange={(e) => setDisposition(e.currentTarget.value as Disposition | '')}
          data={[
            { value: '', label: 'Any' },
            ...DISPOSITIONS.map((d) => ({ value: d, label: d.replace('_', ' ') })),
          ]}
        />
        <NativeSelect
          label="Direction"
          value={direction}
          onChange={(e) => setDirection(e.currentTarget.value as Direction | '')}
          data={[{ value: '', label: 'Any' }, ...DIRECTIONS]}
        />
        <TextInput
          label="Since"
          type="datetime-local"
          value={from}
          onChange={(e) => setFrom(e.currentTarget.value)}
        />
        <TextInput
          label="Until"
          type="datetime-local"
          value={until}
          onChange={(e) => setUntil(e.currentTarget.value)}
        />
        {provider && (
          <NativeSelect
            label="Customer"
            value={customerId}
            onChange={(e) => setCustomerId(e.currentTarget.value)}
            data={[
              { value: '', label: 'All customers' },
              ...(customers.data?.items ?? []).map((c) => ({ value: c.id, label: c.name })),
            ]}
          />
        )}
        <Button variant="light" onClick={exportCsv}>
          Export CSV
        </Button>
      </Group>
      <DataTable
        caption="Call detail records"
        rows={cdrs.query.data?.items}
        error={cdrs.query.error}
        paging={cdrs.paging}
        sort={cdrs.sorting}
        empty="No calls match."
        columns={[
          { header: 'Started', cell: (r) => formatTime(r.startedAt), sortKey: 'startedAt' },
          {
            header: 'Caller',
            // A withheld caller (CLIR, a peer's Privacy header): the callee's side gets it masked as
            // `anonymous`; the operator and the caller's side see who called, marked as withheld.
            cell: (r) =>
              !r.callerWithheld
                ? dialled(r.callerDialled)
                : r.callerDialled === 'anonymous'
                  ? 'Anonymous'
                  : `${dialled(r.callerDialled)} (withheld)`,
          },
          {
            header: 'Callee',
            // A forwarded call: who was called, then where the forward took it.
            cell: (r) =>
              r.forwardType
                ? `${dialled(r.calleeDialled)} → ${r.calleeRouted ? dialled(r.calleeRouted) : '?'} (${r.forwardType})`
                : dialled(r.calleeDialled),
          },
          { header: 'Direction', cell: (r) => r.direction },
          {
            header: 'Outcome',
            cell: (r) => `${r.disposition}${r.sipCode ? ` (${r.sipCode})` : ''}`,
            sortKey: 'disposition',
          },
          { header: 'Duration', cell: (r) => formatDuration(r.durationMs), sortKey: 'durationMs' },
          // Rated prices (docs/billing.md): the API shows each role only its own.
          { header: 'Price', cell: (r) => price(r.customerPrice, r.customerCurrency, r.ratingStatus) },
          ...(provider
            ? [
                {
                  header: operator ? 'Reseller price' : 'Your cost',
                  cell: (r: Priced) => price(r.resellerPrice, r.resellerCurrency, r.ratingStatus),
                },
              ]
            : []),
          ...(operator
            ? [
                {
                  header: 'Carrier cost',
                  cell: (r: Priced) => price(r.carrierCost, r.carrierCurrency, r.ratingStatus),
                },
              ]
            : []),
          ...(operator
            ? [
                {
                  header: 'SIP',
                  cell: (r: { callId: string }) => (
                    <Anchor component={Link} to={`/admin/calls/${encodeURIComponent(r.callId)}/ladder`}>
                      Ladder
                    </Anchor>
                  ),
                },
              ]
            : []),
        ]}
      />
    </Stack>
  );
}
