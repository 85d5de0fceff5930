import { loadavg } from 'node:os';
import type { Dialog } from '../src/dialogs/index.ts';
import type { StreamConnection } from '../src/transport/connection.ts';
import { ConnectionTable } from '../src/transport/connection-table.ts';
import { AckWaits } from '../src/user-agent-core/ack-wait.ts';

/**
 * Tables the user-agent core and the transport consult once per message or per connection, at the sizes
 * a busy node holds: the 2xx responses waiting for their ACK (every answered call for up to 64*T1 when
 * ACKs are lost, a few otherwise) and the open stream connections (every TLS or WebSocket device). Each
 * operation must cost the same whatever the table holds. Reported in CPU nanoseconds per operation,
 * median of the samples.
 */
const SIZES = [10, 1_000, 10_000, 100_000];
const OPERATIONS = 20_000;
const SAMPLES = 5;

function median(runs: number[]): number {
  return runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)] as number;
}

function nsPer(operations: number, work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / operations;
}

/** A 2xx answered and its ACK received, with `waiting` other 2xx still waiting for theirs. */
function ackWaits(waiting: number): number {
  const runs: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const waits = new AckWaits<number, string>();
    const dialog = (i: number) => ({ i }) as unknown as Dialog<string>;
    for (let i = 0; i < waiting; i++) waits.wait(-1 - i, dialog(-1 - i));
    const dialogs = Array.from({ length: OPERATIONS }, (_, i) => dialog(i));
    runs.push(
      nsPer(OPERATIONS, () => {
        for (let i = 0; i < OPERATIONS; i++) {
          const d = dialogs[i] as Dialog<string>;
          waits.wait(i, d);
          waits.acknowledge(d);
        }
      }),
    );
  }
  return median(runs);
}

function connection(i: number): StreamConnection {
  return {
    id: `c${i}`,
    transport: 'tls',
    remoteAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    remotePort: 40000 + (i % 20000),
    closed: false,
  } as unknown as StreamConnection;
}

/** A device connects, names its listening port (alias) and disconnects, with `open` others connected. */
function connectionTable(open: number): number {
  const runs: number[] = [];
  const operations = Math.min(OPERATIONS, 2_000);
  for (let s = 0; s < SAMPLES; s++) {
    const table = new ConnectionTable();
    for (let i = 0; i < open; i++) table.add(connection(i));
    const churn = Array.from({ length: operations }, (_, i) => connection(open + i));
    runs.push(
      nsPer(operations, () => {
        for (const conn of churn) {
          table.add(conn);
          table.alias(conn, conn.remoteAddress, 5061);
          table.remove(conn);
        }
      }),
    );
  }
  return median(runs);
}

// One pass first, so that every row runs compiled code.
ackWaits(1_000);
connectionTable(1_000);
console.log(`load ${loadavg()[0]?.toFixed(2)}; CPU ns per operation, median of ${SAMPLES} samples`);
console.log('| held | 2xx answered + ACK | connect + alias + close |');
console.log('| ---: | ---: | ---: |');
for (const size of SIZES) {
  console.log(`| ${size} | ${ackWaits(size).toFixed(0)} | ${connectionTable(size).toFixed(0)} |`);
}
