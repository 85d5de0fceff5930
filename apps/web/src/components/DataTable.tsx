import {
  Alert,
  Checkbox,
  Group,
  Loader,
  NativeSelect,
  Pagination,
  ScrollArea,
  Table,
  Text,
  UnstyledButton,
} from '@mantine/core';
import type { ReactNode } from 'react';
import { PAGE_SIZES, type Paging, type Sorting } from './paging.ts';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** The API field this column sorts by (only with `sort`). */
  sortKey?: string;
}

/** Rows chosen for a bulk action, by id; only rows of the shown page can be chosen. */
export interface Selection {
  selected: ReadonlySet<string>;
  onChange(next: Set<string>): void;
}

/**
 * A column header that sorts: its name is the column's (the arrow is decoration), the header cell's
 * `aria-sort` says the current order; a click sorts ascending, a second one descending.
 */
function SortHeader({ header, sortKey, sort }: { header: string; sortKey: string; sort: Sorting }) {
  const ascending = sort.value === sortKey;
  const arrow = ascending ? ' ▲' : sort.value === `-${sortKey}` ? ' ▼' : '';
  return (
    <UnstyledButton fw={700} fz="sm" onClick={() => sort.onSort(ascending ? `-${sortKey}` : sortKey)}>
      {header}
      <span aria-hidden="true">{arrow}</span>
    </UnstyledButton>
  );
}

/** "26–50 of 312", a page picker and the page size. */
function PageFooter({ caption, paging }: { caption: string; paging: Paging }) {
  const total = paging.total ?? 0;
  const first = total === 0 ? 0 : (paging.page - 1) * paging.perPage + 1;
  const last = Math.min(total, paging.page * paging.perPage);
  return (
    <Group justify="space-between" mt="xs" gap="xs">
      <Text size="sm" aria-live="polite" data-testid={`${caption}-range`}>
        {first}–{last} of {total}
      </Text>
      <Pagination
        size="sm"
        total={Math.max(1, Math.ceil(total / paging.perPage))}
        value={paging.page}
        onChange={paging.onPage}
        siblings={1}
        boundaries={1}
        getControlProps={(control) => ({
          'aria-label': control === 'previous' ? 'Previous page' : control === 'next' ? 'Next page' : control,
        })}
        getItemProps={(page) => ({ 'aria-label': `Page ${page}` })}
      />
      <NativeSelect
        size="xs"
        aria-label="Rows per page"
        value={String(paging.perPage)}
        onChange={(e) => paging.onPerPage(Number(e.currentTarget.value))}
        data={PAGE_SIZES.map((n) => ({ value: String(n), label: `${n} per page` }))}
      />
    </Group>
  );
}

/**
 * A captioned, horizontally scrollable table with loading, error and empty states. With `paging` it shows
 * one page of a server-side list with "x–y of N", with `sort` its columns with a `sortKey` sort on click,
 * with `selection` each row has a checkbox for bulk actions (`rowLabel` names the row for screen readers).
 */
export function DataTable<T extends { id: string }>(props: {
  caption: string;
  columns: Column<T>[];
  rows: T[] | undefined;
  error?: Error | null;
  loading?: boolean;
  empty?: string;
  paging?: Paging;
  sort?: Sorting;
  selection?: Selection;
  rowLabel?: (row: T) => string;
}) {
  if (props.error)
    return (
      <Alert color="red" title="Could not load">
        {props.error.message}
      </Alert>
    );
  if (props.loading || !props.rows) return <Loader aria-label="Loading" />;
  if (props.rows.length === 0) return <Text c="dimmed">{props.empty ?? 'Nothing here yet.'}</Text>;
  const rows = props.rows;
  const { selection, sort } = props;
  const allChosen = selection !== undefined && rows.every((r) => selection.selected.has(r.id));
  const someChosen = selection !== undefined && rows.some((r) => selection.selected.has(r.id));
  const toggle = (id: string, on: boolean) => {
    if (!selection) return;
    const next = new Set(selection.selected);
    if (on) next.add(id);
    else next.delete(id);
    selection.onChange(next);
  };
  return (
    <div>
      <ScrollArea type="auto">
        <Table striped highlightOnHover aria-label={props.caption} miw={600}>
          <Table.Thead>
            <Table.Tr>
              {selection && (
                <Table.Th scope="col" w={40}>
                  <Checkbox
                    aria-label="Select all rows on this page"
                    checked={allChosen}
                    indeterminate={someChosen && !allChosen}
                    onChange={(e) =>
                      selection.onChange(new Set(e.currentTarget.checked ? rows.map((r) => r.id) : []))
                    }
                  />
                </Table.Th>
              )}
              {props.columns.map((c) => (
                <Table.Th
                  key={c.header}
                  scope="col"
                  aria-sort={
                    sort && c.sortKey
                      ? sort.value === c.sortKey
                        ? 'ascending'
                        : sort.value === `-${c.sortKey}`
                          ? 'descending'
                          : 'none'
                      : undefined
                  }
                >
                  {sort && c.sortKey ? (
                    <SortHeader header={c.header} sortKey={c.sortKey} sort={sort} />
                  ) : (
                    c.header
                  )}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((row) => (
              <Table.Tr key={row.id}>
                {selection && (
                  <Table.Td>
                    <Checkbox
                      aria-label={`Select ${props.rowLabel ? props.rowLabel(row) : row.id}`}
                      checked={selection.selected.has(row.id)}
                      onChange={(e) => toggle(row.id, e.currentTarget.checked)}
                    />
                  </Table.Td>
                )}
                {props.columns.map((c) => (
                  <Table.Td key={c.header}>{c.cell(row)}</Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollArea>
      {props.paging && <PageFooter caption={props.caption} paging={props.paging} />}
    </div>
  );
}
