import { Alert, Anchor, Code, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { asJson, type ResponseOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';

type Ladder = ResponseOf<'/api/v1/calls/{callId}/ladder', 'get'>;
type Message = Ladder['messages'][number];

const COLUMN = 200;
const ROW = 34;
const HEAD = 40;

/** Each address that sent or received a message, in order of first appearance: the ladder's columns. */
export function participantsOf(messages: readonly Message[]): string[] {
  const seen: string[] = [];
  for (const m of messages) {
    for (const address of [m.source, m.destination]) if (!seen.includes(address)) seen.push(address);
  }
  return seen;
}

/** The SIP ladder (message sequence chart) of one call, both legs, from the engine's capture. */
export function CallLadderPage() {
  const api = useApi();
  const { callId = '' } = useParams();
  const ladder = useQuery({
    queryKey: ['ladder', callId],
    queryFn: async () =>
      asJson(unwrap(await api.GET('/api/v1/calls/{callId}/ladder', { params: { path: { callId } } }))),
  });
  const messages = ladder.data?.messages ?? [];
  const columns = participantsOf(messages);
  const x = (address: string) => COLUMN / 2 + columns.indexOf(address) * COLUMN;
  const width = Math.max(1, columns.length) * COLUMN;
  const height = HEAD + messages.length * ROW + 10;
  return (
    <Stack>
      <Title order={1}>SIP ladder</Title>
      <Text size="sm">
        Call-ID <Code>{callId}</Code> ·{' '}
        <Anchor component={Link} to="/admin/cdrs">
          Call records
        </Anchor>
      </Text>
      {ladder.error ? <Alert color="red">{(ladder.error as Error).message}</Alert> : null}
      {messages.length > 0 ? (
        <div style={{ overflowX: 'auto' }}>
          <svg role="img" aria-label="SIP ladder" width={width} height={height} fontSize={12}>
            {columns.map((address) => (
              <g key={address} data-testid="ladder-column">
                <text x={x(address)} y={16} textAnchor="middle" fontWeight="bold">
                  {address}
                </text>
                <line x1={x(address)} y1={24} x2={x(address)} y2={height} stroke="#adb5bd" />
              </g>
            ))}
            {messages.map((m, i) => {
              const y = HEAD + i * ROW + ROW / 2;
              const from = x(m.source);
              const to = x(m.destination);
              const head = to > from ? -8 : 8;
              return (
                <g key={m.seq} data-testid="ladder-arrow">
                  <title>{`${m.at} ${m.transport} ${m.source} → ${m.destination}`}</title>
                  <line x1={from} y1={y} x2={to} y2={y} stroke="#1c7ed6" strokeWidth={1.5} />
                  <path d={`M${to},${y} l${head},-4 l0,8 z`} fill="#1c7ed6" />
                  <text x={(from + to) / 2} y={y - 5} textAnchor="middle">
                    {m.startLine.replace(/ SIP\/2\.0$/, '').slice(0, 40)}
                  </text>
                </g>
              );
            })}
          </svg>
        </div>
      ) : null}
      {messages.map((m) => (
        <details key={m.seq}>
          <summary>
            {new Date(m.at).toISOString().slice(11, 23)} {m.source} → {m.destination} ({m.transport}){' '}
            {m.startLine}
          </summary>
          <Code block>{m.message}</Code>
        </details>
      ))}
    </Stack>
  );
}
