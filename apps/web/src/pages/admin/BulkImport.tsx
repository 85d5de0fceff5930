import {
  Alert,
  Badge,
  Button,
  Card,
  FileInput,
  Group,
  NativeSelect,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { type ResponseOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';

type Resource = 'subscribers' | 'numbers';
type Report = ResponseOf<'/api/v1/bulk/subscribers', 'post'>;

const COLUMNS: Record<Resource, string> = {
  subscribers:
    'username, domain, customerId or customer, displayName, status, maxConcurrentCalls, clir, password ' +
    '(required for new subscribers; stored only as digests)',
  numbers: 'countryCode, areaCode, subscriberNumber, subscriber (user@domain), isPrimary',
};

const ACTION_COLOR = { create: 'green', update: 'blue', unchanged: 'gray', error: 'red' } as const;

/** Saves text as a file through a temporary link (the browser's own download). */
function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

/**
 * Bulk export and import as CSV. An upload is first checked (dry run: what each row would do, and the row
 * errors); only a clean check can be applied, and applying writes all rows or none.
 */
export function BulkImportPage() {
  const api = useApi();
  const [resource, setResource] = useState<Resource>('subscribers');
  const [file, setFile] = useState<File | null>(null);
  const [checked, setChecked] = useState<{ csv: string; report: Report } | null>(null);
  const [applied, setApplied] = useState<Report | null>(null);
  // Both resources take the same body and answer the same report; the path picks the resource.
  const path = `/api/v1/bulk/${resource}` as '/api/v1/bulk/subscribers';
  const exportCsv = useMutation({
    mutationFn: async () => unwrap(await api.GET(path, { parseAs: 'text' })),
    onSuccess: (text) => download(`${resource}.csv`, text),
  });
  const run = useMutation({
    mutationFn: async ({ csv, apply }: { csv: string; apply: boolean }) => ({
      csv,
      report: unwrap(await api.POST(path, { body: { csv, apply } })),
    }),
    onSuccess: ({ csv, report }) => {
      if (report.applied) {
        setApplied(report);
        setChecked(null);
      } else {
        setChecked({ csv, report });
      }
    },
  });
  async function check() {
    if (file === null) return;
    setApplied(null);
    run.mutate({ csv: await file.text(), apply: false });
  }
  function reset(next: Resource) {
    setResource(next);
    setChecked(null);
    setApplied(null);
    run.reset();
  }
  const report = checked?.report;
  return (
    <Stack>
      <Title order={1}>Import and export</Title>
      <NativeSelect
        label="Records"
        value={resource}
        onChange={(e) => reset(e.currentTarget.value as Resource)}
        data={[
          { value: 'subscribers', label: 'Subscribers' },
          { value: 'numbers', label: 'Numbers' },
        ]}
        maw={240}
      />
      <Card withBorder>
        <Stack>
          <Title order={2} size="h4">
            Export
          </Title>
          <Text size="sm">
            All {resource} you may see, as CSV with a header line. Passwords are never exported.
          </Text>
          <FormAlert error={exportCsv.error} />
          <Group>
            <Button variant="light" onClick={() => exportCsv.mutate()} loading={exportCsv.isPending}>
              Download {resource}.csv
            </Button>
          </Group>
        </Stack>
      </Card>
      <Card withBorder>
        <Stack>
          <Title order={2} size="h4">
            Import
          </Title>
          <Text size="sm">
            Columns: {COLUMNS[resource]}. An empty cell keeps the current value. At most 2000 rows and 1 MiB;
            rows are numbered as lines of the file (header = 1).
          </Text>
          <FormAlert error={run.error} />
          <Group align="flex-end">
            <FileInput
              label="CSV file"
              accept=".csv,text/csv"
              value={file}
              onChange={(f) => {
                setFile(f);
                setChecked(null);
              }}
              placeholder="Choose a file"
              w={280}
            />
            <Button onClick={check} disabled={file === null} loading={run.isPending && !checked}>
              Check (dry run)
            </Button>
            <Button
              color="green"
              disabled={!report || report.errors.length > 0}
              loading={run.isPending && checked !== null}
              onClick={() => checked && run.mutate({ csv: checked.csv, apply: true })}
            >
              Apply
            </Button>
          </Group>
          {applied && (
            <Alert color="green" title="Import applied" role="status">
              {applied.counts.create} created, {applied.counts.update} updated, {applied.counts.unchanged}{' '}
              unchanged.
            </Alert>
          )}
          {report && <ImportReport report={report} />}
        </Stack>
      </Card>
    </Stack>
  );
}

function ImportReport({ report }: { report: Report }) {
  const c = report.counts;
  return (
    <Stack>
      <Alert
        color={c.error > 0 ? 'red' : 'blue'}
        title={c.error > 0 ? 'Fix these rows, then check again' : 'Dry run: nothing written yet'}
        role="status"
        data-testid="import-summary"
      >
        {c.create} to create, {c.update} to update, {c.unchanged} unchanged, {c.error} with errors.
      </Alert>
      {report.errors.length > 0 && (
        <DataTable
          caption="Row errors"
          rows={report.errors.map((e, i) => ({ ...e, id: String(i) }))}
          columns={[
            { header: 'Row', cell: (e) => e.row },
            { header: 'Column', cell: (e) => e.column || '–' },
            { header: 'Problem', cell: (e) => e.message },
          ]}
        />
      )}
      <DataTable
        caption="Rows"
        rows={report.rows.map((r) => ({ ...r, id: String(r.row) }))}
        columns={[
          { header: 'Row', cell: (r) => r.row },
          { header: 'Record', cell: (r) => r.key || '–' },
          {
            header: 'Action',
            cell: (r) => (
              <Badge miw="max-content" color={ACTION_COLOR[r.action]}>
                {r.action}
              </Badge>
            ),
          },
          { header: 'Changes', cell: (r) => r.changes.join(', ') || '–' },
        ]}
      />
    </Stack>
  );
}
