import { Button, Group, NativeSelect } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { FormAlert, problemField } from '../../components/FormAlert.tsx';
import { subscriberRecordingOptions } from '../../components/RecordingSettings.tsx';

type Subscriber = ItemOf<'/api/v1/subscribers'>;
type Mode = NonNullable<Subscriber['recordingMode']>;

/** Whether this phone's calls are recorded: its own mode, or (empty) the customer's recording settings. */
export function PhoneRecording({ subscriber }: { subscriber: Subscriber }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<Mode | ''>(subscriber.recordingMode ?? '');
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PATCH('/api/v1/subscribers/{id}', {
          params: { path: { id: subscriber.id } },
          body: { recordingMode: mode || null },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['subscribers', 'mine'] }),
  });
  return (
    <form
      aria-label={`Call recording of ${subscriber.sipUri}`}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <FormAlert error={save.error} />
      <Group align="flex-end">
        <NativeSelect
          label="Call recording"
          value={mode}
          onChange={(e) => setMode(e.currentTarget.value as Mode | '')}
          data={subscriberRecordingOptions("The company's setting (Recordings page)")}
          error={problemField(save.error, 'recordingMode')}
        />
        <Button type="submit" variant="light" loading={save.isPending}>
          Save
        </Button>
      </Group>
    </form>
  );
}
