import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { SipTrafficMetrics } from '@switchboard/metrics';
import type { Logger } from 'pino';
import { encodeHep3 } from './hep.ts';
import { callIdOf, type SipMessageObserver } from './observed-transport.ts';

export interface HepExporterOptions {
  /** HEP_DESTINATION: the collector (heplify-server, Homer). A host name is resolved once, at start. */
  destination: { host: string; port: number };
  /** HEP_CAPTURE_ID: tells the collector which agent captured the packet. */
  captureId: number;
  /** HEP_PASSWORD: sent in chunk 14 when set. */
  authKey?: string | undefined;
  logger: Logger;
  /** Counts packets sent and lost (result: sent | failed). */
  packets?: SipTrafficMetrics['hepPackets'];
}

export interface HepExporter {
  observer: SipMessageObserver;
  close(): Promise<void>;
}

/**
 * Sends a HEP v3 copy of every SIP message to the collector over UDP, Call-ID as the correlation id.
 * Capture is best effort: a packet that cannot be encoded or sent is counted and dropped, never retried,
 * and never slows SIP down (the send is fire-and-forget).
 */
export async function startHepExporter(options: HepExporterOptions): Promise<HepExporter> {
  const { destination, captureId, authKey, logger, packets } = options;
  const target = await lookup(destination.host);
  const socket: Socket = createSocket(target.family === 6 ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, resolve));
  socket.on('error', (err) => logger.warn({ err }, 'HEP socket error'));
  let warned = false;
  const failed = (err: unknown): void => {
    packets?.inc({ result: 'failed' });
    // One warning tells the operator; a collector that is down would otherwise flood the log.
    if (!warned) logger.warn({ err, hep: `${destination.host}:${destination.port}` }, 'HEP export failed');
    else logger.debug({ err }, 'HEP export failed');
    warned = true;
  };
  logger.info(
    { hep: `${target.address}:${destination.port}`, captureId },
    'exporting SIP to a HEP collector',
  );

  const observer: SipMessageObserver = (event) => {
    const inbound = event.direction === 'in';
    let packet: Buffer;
    try {
      const correlationId = callIdOf(event.message);
      packet = encodeHep3({
        ipProtocol: event.transport === 'udp' ? 'udp' : 'tcp',
        sourceAddress: inbound ? event.remoteAddress : event.localAddress,
        sourcePort: inbound ? event.remotePort : event.localPort,
        destinationAddress: inbound ? event.localAddress : event.remoteAddress,
        destinationPort: inbound ? event.localPort : event.remotePort,
        timeMicros: event.at * 1000,
        captureId,
        payload: event.wire ?? event.message.toBuffer(),
        ...(authKey !== undefined ? { authKey } : {}),
        ...(correlationId !== undefined ? { correlationId } : {}),
      });
    } catch (err) {
      failed(err);
      return;
    }
    socket.send(packet, destination.port, target.address, (err) => {
      if (err) failed(err);
      else packets?.inc({ result: 'sent' });
    });
  };
  return {
    observer,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
