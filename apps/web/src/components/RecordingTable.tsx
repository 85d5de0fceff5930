import { Anchor, Button, Group, Stack } from '@mantine/core';
import { useState } from 'react';
import { asJson, unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { DataTable } from './DataTable.tsx';
import { formatDuration, formatTime } from './format.ts';
import { usePagedList } from './paging.ts';

/**
 * Call recordings the user may hear (its own customer's; a reseller's customers'; every one for the
 * operator), newest first. Each plays in the page from the authenticated audio route (the session cookie
 * goes along) and links to its call record.
 */
export function RecordingTable() {
  const api = useApi();
  const [playing, setPlaying] = useState<string | undefined>();
  const recordings = usePagedList(
    ['recordings'],
    async (query) => asJson(unwrap(await api.GET('/api/v1/recordings', { params: { query } }))),
    { defaultSort: '-createdAt', perPage: 50 },
  );
  return (
    <Stack>
      <DataTable
        caption="Call recordings"
        rows={recordings.query.data?.items}
        error={recordings.query.error}
        paging={recordings.paging}
        sort={recordings.sorting}
        empty="No recordings."
        columns={[
          { header: 'Recorded', cell: (r) => formatTime(r.createdAt), sortKey: 'createdAt' },
          { header: 'Length', cell: (r) => formatDuration(r.durationMs), sortKey: 'durationMs' },
          { header: 'Size', cell: (r) => `${Math.round(r.sizeBytes / 1024)} KiB` },
          {
            header: 'Audio',
            cell: (r) =>
              playing === r.id ? (
                // biome-ignore lint/a11y/useMediaCaption: a phone call recording has no caption track
                <audio
                  controls
                  autoPlay
                  src={`/api/v1/recordings/${r.id}/audio`}
                  aria-label={`Recording of ${formatTime(r.createdAt)}`}
                />
              ) : (
                <Group gap="xs">
                  <Button size="xs" variant="light" onClick={() => setPlaying(r.id)}>
                    Play
                  </Button>
                  <Anchor href={`/api/v1/recordings/${r.id}/audio`} download={`recording-${r.id}.wav`}>
                    Download
                  </Anchor>
                </Group>
              ),
          },
        ]}
      />
    </Stack>
  );
}
