import { connect, type Socket } from 'node:net';
import type { Softphone } from './softphones.ts';

/** A connection to baresip's ctrl_tcp: commands out, event types in. */
export interface BaresipControl {
  send(command: string, params?: string): void;
  close(): void;
}

/**
 * Connects to baresip's ctrl_tcp (netstring-framed JSON, bounded retries while it starts) and calls
 * `onEvent` with the type of each event baresip reports (CALL_INCOMING, ...) and its `param` (for
 * CALL_DTMF_START, the key).
 */
export async function connectControl(
  phone: Pick<Softphone, 'output'>,
  port: number,
  onEvent: (type: string, param?: string) => void,
): Promise<BaresipControl> {
  let socket: Socket | undefined;
  for (let attempt = 0; attempt < 40 && !socket; attempt++) {
    socket = await new Promise<Socket | undefined>((resolve) => {
      const candidate = connect(port, '127.0.0.1');
      candidate.once('connect', () => resolve(candidate));
      candidate.once('error', () => resolve(undefined));
    });
    if (!socket) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (!socket) throw new Error(`baresip ctrl_tcp did not open:\n${phone.output().slice(-3000)}`);
  const connection = socket;
  let buffer = Buffer.alloc(0);
  connection.on('data', (data: Buffer) => {
    buffer = Buffer.concat([buffer, data]);
    // Netstrings: <length>:<payload>,
    for (;;) {
      const colon = buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(buffer.subarray(0, colon).toString());
      if (buffer.length < colon + 2 + length) return;
      const payload = buffer.subarray(colon + 1, colon + 1 + length).toString();
      buffer = buffer.subarray(colon + 2 + length);
      const message = JSON.parse(payload) as { event?: boolean; type?: string; param?: string };
      if (message.event && message.type) onEvent(message.type, message.param);
    }
  });
  connection.on('error', () => {});
  return {
    send(command, params) {
      const json = JSON.stringify({ command, params, token: String(Date.now()) });
      connection.write(`${Buffer.byteLength(json)}:${json},`);
    },
    close: () => connection.destroy(),
  };
}
