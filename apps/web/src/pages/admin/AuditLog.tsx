import { Button, Code, Table } from '@mantine/core';
import type { ItemOf } from '../../api/client.ts';
import { diffOf, recordName } from '../../components/audit.ts';

type Entry = ItemOf<'/api/v1/audit-log'>;

/** Before/after of one entry, one row per changed field. */
export function AuditChanges({ entry }: { entry: Entry }) {
  const changes = diffOf(entry.before, entry.after);
  if (changes.length === 0) return <span>No field changed.</span>;
  return (
    <Table aria-label={`Changes of ${recordName(entry.before, entry.after) ?? entry.entity}`} withTableBorder>
      <Table.Thead>
        <Table.Tr>
          <Table.Th scope="col">Field</Table.Th>
          <Table.Th scope="col">Before</Table.Th>
          <Table.Th scope="col">After</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {changes.map((c) => (
          <Table.Tr key={c.field}>
            <Table.Td>{c.field}</Table.Td>
            <Table.Td style={{ overflowWrap: 'anywhere' }}>
              {c.before === '' ? '' : <Code color="red.1">{c.before}</Code>}
            </Table.Td>
            <Table.Td style={{ overflowWrap: 'anywhere' }}>
              {c.after === '' ? '' : <Code color="green.1">{c.after}</Code>}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** The button of a row that has changes: how many fields, and it opens or closes them. */
export function ChangesButton(props: { entry: Entry; open: boolean; onToggle: () => void }) {
  const { entry } = props;
  const n = diffOf(entry.before, entry.after).length;
  if (n === 0) return <span>–</span>;
  const label = recordName(entry.before, entry.after) ?? entry.entity;
  return (
    <Button
      size="xs"
      variant={props.open ? 'filled' : 'light'}
      onClick={props.onToggle}
      aria-label={`Changes of ${entry.action} ${label}`}
      aria-expanded={props.open}
    >
      {n} field{n === 1 ? '' : 's'}
    </Button>
  );
}
