import { Group, Stack } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { type Column, DataTable } from './DataTable.tsx';
import type { Page, Paging, Sorting } from './paging.ts';
import { BulkBar, DeleteButton, type Toggle } from './RecordActions.tsx';

/**
 * An admin list of one resource: a server-side page of rows (usePagedList), sortable columns, a Delete button
 * per row with confirmation, and bulk actions on the selected rows.
 */
export function RecordTable<T extends { id: string }>(props: {
  caption: string;
  /** Plural name for bulk messages: `customers`. */
  what: string;
  /** The collection's API path; a record's is `${basePath}/${id}`. */
  basePath: string;
  /** A row's name in button labels and dialogs. */
  name: (row: T) => string;
  list: { query: UseQueryResult<Page<T>>; paging: Paging; sorting: Sorting };
  columns: Column<T>[];
  /** Buttons before Delete in each row's Actions cell. */
  actions?: (row: T) => ReactNode;
  /** Enable/disable bodies where the resource has a state. */
  toggle?: Toggle;
  /** False: no delete and no selection (a role that may not change the resource). */
  editable?: boolean;
  /** Called after a delete or bulk change (invalidate the list and what depends on it). */
  onChanged(): void | Promise<void>;
  empty?: string;
}) {
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const rows = props.list.query.data?.items;
  const editable = props.editable !== false;
  // Only rows of the page on screen can be acted on.
  const chosen = (rows ?? []).filter((r) => selected.has(r.id));
  const actions = (row: T) => (
    <Group gap="xs" wrap="nowrap">
      {props.actions?.(row)}
      {editable && (
        <DeleteButton
          what={props.name(row)}
          path={`${props.basePath}/${row.id}`}
          onDeleted={props.onChanged}
        />
      )}
    </Group>
  );
  return (
    <Stack gap="xs">
      {editable && (
        <BulkBar
          what={props.what}
          paths={chosen.map((r) => `${props.basePath}/${r.id}`)}
          {...(props.toggle ? { toggle: props.toggle } : {})}
          onDone={props.onChanged}
          onClear={() => setSelected(new Set())}
        />
      )}
      <DataTable
        caption={props.caption}
        rows={rows}
        error={props.list.query.error}
        empty={props.empty ?? 'Nothing here yet.'}
        paging={props.list.paging}
        sort={props.list.sorting}
        rowLabel={props.name}
        {...(editable ? { selection: { selected, onChange: setSelected } } : {})}
        columns={[
          ...props.columns,
          ...(editable || props.actions ? [{ header: 'Actions', cell: actions }] : []),
        ]}
      />
    </Stack>
  );
}
