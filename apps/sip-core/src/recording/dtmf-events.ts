import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { keyOfEvent } from './dtmf-code.ts';

/** A key one party pressed, as rtpengine saw it in the RTP (RFC 4733 telephone-event). */
export interface RelayDtmf {
  callId: string;
  /** The tag of the leg that sent the event. */
  sourceTag: string;
  key: string;
}

/**
 * rtpengine's DTMF reports (`--dtmf-log-dest=<host:port>`): one UDP datagram of JSON per completed event,
 * `{"callid","source_tag","tags","type":"DTMF","event",...}` (measured with rtpengine 10.5). Anything
 * that does not parse as such is ignored. Resolves once bound; `close` stops listening.
 */
export async function listenForRelayDtmf(
  address: { host: string; port: number },
  onKey: (dtmf: RelayDtmf) => void,
  log: Logger,
): Promise<{ close(): Promise<void> }> {
  const socket: Socket = createSocket('udp4');
  socket.on('message', (message) => {
    const dtmf = parseRelayDtmf(message.toString('utf8'));
    if (dtmf) onKey(dtmf);
    else log.debug({ length: message.length }, 'not an rtpengine DTMF report');
  });
  socket.on('error', (error) => log.warn({ err: error }, 'DTMF report socket error'));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(address.port, address.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  log.info({ address: `${address.host}:${address.port}` }, 'listening for the relay DTMF reports');
  return { close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

/** One report's call, sending leg and key; undefined for anything else. */
export function parseRelayDtmf(text: string): RelayDtmf | undefined {
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof report !== 'object' || report === null) return undefined;
  const { callid, source_tag, event, type } = report as Record<string, unknown>;
  if (type !== undefined && type !== 'DTMF') return undefined;
  if (typeof callid !== 'string' || typeof source_tag !== 'string' || typeof event !== 'number')
    return undefined;
  const key = keyOfEvent(event);
  return key ? { callId: callid, sourceTag: source_tag, key } : undefined;
}

/** `host:port` (e.g. `127.0.0.1:22223`), else undefined. */
export function parseHostPort(text: string | undefined): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text?.trim() ?? '');
  const port = Number(match?.[2]);
  return match?.[1] && port > 0 && port < 65536 ? { host: match[1], port } : undefined;
}
