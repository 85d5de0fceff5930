import { Alert, Loader, ScrollArea, Table, Text } from '@mantine/core';
import type { ReactNode } from 'react';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
}

/** A captioned, horizontally scrollable table with loading, error and empty states. */
export function DataTable<T extends { id: string }>(props: {
  caption: string;
  columns: Column<T>[];
  rows: T[] | undefined;
  error?: Error | null;
  loading?: boolean;
  empty?: string;
}) {
  if (props.error)
    return (
      <Alert color="red" title="Could not load">
        {props.error.message}
      </Alert>
    );
  if (props.loading || !props.rows) return <Loader aria-label="Loading" />;
  if (props.rows.length === 0) return <Text c="dimmed">{props.empty ?? 'Nothing here yet.'}</Text>;
  return (
    <ScrollArea type="auto">
      <Table striped highlightOnHover aria-label={props.caption} miw={600}>
        <Table.Thead>
          <Table.Tr>
            {props.columns.map((c) => (
              <Table.Th key={c.header} scope="col">
                {c.header}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {props.rows.map((row) => (
            <Table.Tr key={row.id}>
              {props.columns.map((c) => (
                <Table.Td key={c.header}>{c.cell(row)}</Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollArea>
  );
}
