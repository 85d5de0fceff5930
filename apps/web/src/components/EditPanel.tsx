import { Button, Card, Group, Stack, Title } from '@mantine/core';
import { type QueryKey, useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEventHandler, type ReactNode, useEffect, useRef } from 'react';
import { FormAlert } from './FormAlert.tsx';

/**
 * The editor of one existing record, shown on the page next to its table. It takes the keyboard focus when it
 * opens (its first field), and Escape or Cancel closes it without saving.
 */
export function EditPanel(props: {
  title: string;
  onSubmit: FormEventHandler<HTMLFormElement>;
  onCancel: () => void;
  error: Error | null;
  saving: boolean;
  children: ReactNode;
}) {
  const ref = useRef<HTMLFormElement>(null);
  useEffect(() => {
    const form = ref.current;
    form?.querySelector<HTMLElement>('input:not([type=hidden]), select, textarea')?.focus();
    // On a phone the table is long: bring the editor into view (jsdom has no scrolling).
    form?.scrollIntoView?.({ block: 'nearest' });
  }, []);
  return (
    <Card withBorder>
      <form
        ref={ref}
        onSubmit={props.onSubmit}
        noValidate
        aria-label={props.title}
        onKeyDown={(e) => {
          if (e.key === 'Escape') props.onCancel();
        }}
      >
        <Stack>
          <Title order={2} size="h4" style={{ overflowWrap: 'anywhere' }}>
            {props.title}
          </Title>
          <FormAlert error={props.error} />
          <Group align="flex-end">{props.children}</Group>
          <Group>
            <Button type="submit" loading={props.saving}>
              Save changes
            </Button>
            <Button variant="default" onClick={props.onCancel}>
              Cancel
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

/**
 * The save of an editor: runs `save`, then refetches the list under `queryKey` before closing, so the table
 * already shows the change when the panel goes away.
 */
export function useSaveThenClose<V, R>(
  queryKey: QueryKey,
  onDone: () => void,
  save: (values: V) => Promise<R>,
) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: save,
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey });
      onDone();
    },
  });
}

/** The per-row button that opens the editor; its accessible name says which record. */
export function EditButton({ what, onClick }: { what: string; onClick: () => void }) {
  return (
    <Button size="xs" variant="light" onClick={onClick} aria-label={`Edit ${what}`}>
      Edit
    </Button>
  );
}
