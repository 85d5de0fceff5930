import { Button, Group, List, Modal, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { useApi } from '../api/context.tsx';
import { FormAlert } from './FormAlert.tsx';
import { deleteRecord, describeDependants, patchRecord, sumDependants } from './records.ts';

/**
 * Asks before deleting; when other records still depend on the chosen ones (the API's 409), shows how many of
 * each and offers to delete them too (`?force=true`).
 */
function ConfirmDelete(props: {
  title: string;
  paths: string[];
  onClose(): void;
  onDeleted(): void | Promise<void>;
}) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  /** Records that were refused for their dependants, with the counts; null: not tried yet. */
  const [blocked, setBlocked] = useState<{ paths: string[]; counts: Record<string, number> } | null>(null);

  async function run(paths: string[], force: boolean) {
    setBusy(true);
    setError(null);
    const refused: string[] = [];
    const counts: Record<string, number>[] = [];
    try {
      // One after the other: a page holds at most a few hundred rows, and each delete is its own transaction.
      for (const path of paths) {
        const outcome = await deleteRecord(api, path, force);
        if (!outcome.ok) {
          refused.push(path);
          counts.push(outcome.dependants);
        }
      }
      if (refused.length === 0) {
        await props.onDeleted();
        props.onClose();
      } else {
        setBlocked({ paths: refused, counts: sumDependants(counts) });
        await props.onDeleted();
      }
    } catch (e) {
      setError(e as Error);
      await props.onDeleted();
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal opened onClose={props.onClose} title={props.title} centered>
      <Stack>
        <FormAlert error={error} />
        {blocked === null ? (
          <Text>This cannot be undone.</Text>
        ) : (
          <>
            <Text>
              {blocked.paths.length === props.paths.length
                ? 'Other records still depend on this:'
                : `${blocked.paths.length} of them still have records that depend on them:`}
            </Text>
            <List aria-label="Dependent records">
              {describeDependants(blocked.counts).map((line) => (
                <List.Item key={line}>{line}</List.Item>
              ))}
            </List>
            <Text>Deleting removes these too, and the audit log lists each one.</Text>
          </>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={props.onClose}>
            Cancel
          </Button>
          {blocked === null ? (
            <Button color="red" loading={busy} onClick={() => run(props.paths, false)}>
              Delete
            </Button>
          ) : (
            <Button color="red" loading={busy} onClick={() => run(blocked.paths, true)}>
              Delete with all dependants
            </Button>
          )}
        </Group>
      </Stack>
    </Modal>
  );
}

/** The per-row Delete button; its accessible name says which record. */
export function DeleteButton(props: { what: string; path: string; onDeleted(): void | Promise<void> }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button
        size="xs"
        color="red"
        variant="subtle"
        onClick={() => setOpen(true)}
        aria-label={`Delete ${props.what}`}
      >
        Delete
      </Button>
      {open && (
        <ConfirmDelete
          title={`Delete ${props.what}?`}
          paths={[props.path]}
          onClose={() => setOpen(false)}
          onDeleted={props.onDeleted}
        />
      )}
    </>
  );
}

/** Enable/disable for resources that have a state: the body to send for each. */
export interface Toggle {
  enable: Record<string, unknown>;
  disable: Record<string, unknown>;
}

/**
 * Actions on the selected rows of a table: delete (with the same confirmation as one row), and enable or
 * disable where the resource has a state. Shown only while rows are selected.
 */
export function BulkBar(props: {
  /** Plural name of the records: `customers`. */
  what: string;
  paths: string[];
  toggle?: Toggle;
  onDone(): void | Promise<void>;
  onClear(): void;
}) {
  const api = useApi();
  /** The rows being confirmed for deletion (kept while the selection is cleared behind the dialog). */
  const [confirming, setConfirming] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const dialog = confirming && (
    <ConfirmDelete
      title={`Delete ${confirming.length} ${props.what}?`}
      paths={confirming}
      onClose={() => setConfirming(null)}
      onDeleted={async () => {
        props.onClear();
        await props.onDone();
      }}
    />
  );
  if (props.paths.length === 0) return dialog || null;

  async function setState(body: Record<string, unknown>) {
    setBusy(true);
    setError(null);
    try {
      for (const path of props.paths) await patchRecord(api, path, body);
      props.onClear();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
      await props.onDone();
    }
  }

  const n = props.paths.length;
  return (
    <Stack gap="xs" role="region" aria-label="Bulk actions">
      <FormAlert error={error} />
      <Group gap="xs">
        <Text size="sm" fw={600}>
          {n} selected
        </Text>
        {props.toggle && (
          <>
            <Button size="xs" variant="light" loading={busy} onClick={() => setState(props.toggle!.enable)}>
              Enable selected
            </Button>
            <Button size="xs" variant="light" loading={busy} onClick={() => setState(props.toggle!.disable)}>
              Disable selected
            </Button>
          </>
        )}
        <Button size="xs" color="red" variant="light" onClick={() => setConfirming(props.paths)}>
          Delete selected
        </Button>
        <Button size="xs" variant="subtle" onClick={props.onClear}>
          Clear selection
        </Button>
      </Group>
      {dialog}
    </Stack>
  );
}
