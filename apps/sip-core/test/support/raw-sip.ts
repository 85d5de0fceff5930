import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';

/**
 * A bare SIP peer on a loopback address for reflection tests: it sends requests as raw packets and
 * counts every packet and byte that comes back. No SIP stack, so nothing is retransmitted or absorbed
 * on this side.
 */
export interface RawPeer {
  readonly address: string;
  readonly port: number;
  /** Every response received so far, as text. */
  readonly received: string[];
  readonly bytesReceived: number;
  send(message: string): Promise<void>;
  /** Waits `ms` (a bounded window), then says what arrived during the whole life of the peer. */
  collect(ms: number): Promise<string[]>;
  /** Waits until `count` responses arrived in all (at most `timeoutMs`, however slow the machine). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

async function waitFor(received: string[], count: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (received.length < count) {
    if (Date.now() > deadline) throw new Error(`${received.length} of ${count} responses arrived`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function udpPeer(address: string, remotePort: number): Promise<RawPeer> {
  const socket: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const received: string[] = [];
  let bytes = 0;
  socket.on('message', (data) => {
    received.push(data.toString());
    bytes += data.length;
  });
  return {
    address,
    port: socket.address().port,
    received,
    get bytesReceived() {
      return bytes;
    },
    send: (message) =>
      new Promise<void>((resolve, reject) =>
        socket.send(message, remotePort, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
      ),
    collect: async (ms) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return received;
    },
    waitFor: (count, timeoutMs) => waitFor(received, count, timeoutMs),
    close: () => socket.close(),
  };
}

export async function tcpPeer(address: string, remotePort: number): Promise<RawPeer> {
  const socket: TcpSocket = connect({ host: '127.0.0.1', port: remotePort, localAddress: address });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const received: string[] = [];
  let bytes = 0;
  let buffer = '';
  socket.on('data', (data) => {
    bytes += data.length;
    buffer += data.toString();
    // Responses here carry no body: each ends with the blank line.
    for (let end = buffer.indexOf('\r\n\r\n'); end >= 0; end = buffer.indexOf('\r\n\r\n')) {
      received.push(buffer.slice(0, end + 4));
      buffer = buffer.slice(end + 4);
    }
  });
  socket.on('error', () => {});
  return {
    address,
    port: socket.localPort ?? 0,
    received,
    get bytesReceived() {
      return bytes;
    },
    send: (message) =>
      new Promise<void>((resolve, reject) =>
        socket.write(message, (error) => (error ? reject(error) : resolve())),
      ),
    collect: async (ms) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return received;
    },
    waitFor: (count, timeoutMs) => waitFor(received, count, timeoutMs),
    close: () => socket.destroy(),
  };
}

export interface RawRequestOptions {
  method: 'INVITE' | 'REGISTER' | 'ACK';
  transport: 'UDP' | 'TCP';
  peer: { address: string; port: number };
  domain: string;
  user: string;
  callId: string;
  branch: string;
  cseq?: number;
  /** The To tag, for an ACK to a final response. */
  toTag?: string;
}

/** An SDP offer as a softphone sends it with its INVITE (G.711 and telephone-events). */
function sdpOffer(address: string): string {
  return [
    'v=0',
    `o=- 3912 3912 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    'm=audio 40000 RTP/AVP 0 8 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** A request as a typical softphone sends it: an INVITE carries its SDP offer, an ACK nothing. */
export function rawRequest(o: RawRequestOptions): string {
  const uri = o.method === 'REGISTER' ? `sip:${o.domain}` : `sip:bob@${o.domain}`;
  const body = o.method === 'INVITE' ? sdpOffer(o.peer.address) : '';
  const contact = `<sip:${o.user}@${o.peer.address}:${o.peer.port};transport=${o.transport.toLowerCase()}>`;
  const lines = [
    `${o.method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/${o.transport} ${o.peer.address}:${o.peer.port};branch=${o.branch};rport`,
    'Max-Forwards: 70',
    `From: "${o.user}" <sip:${o.user}@${o.domain}>;tag=${o.callId}-tag`,
    `To: <${o.method === 'REGISTER' ? `sip:${o.user}@${o.domain}` : uri}>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq ?? 1} ${o.method}`,
    ...(o.method === 'ACK'
      ? []
      : [
          o.method === 'REGISTER'
            ? `Contact: ${contact};+sip.instance="<urn:uuid:6f1c2a52-0d4e-4f7a-9a43-2b8f3c1d9e70>";reg-id=1`
            : `Contact: ${contact}`,
          ...(o.method === 'REGISTER' ? ['Expires: 3600'] : []),
          'User-Agent: raw-phone/1.0',
          'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY, REFER, MESSAGE',
          'Supported: replaces, outbound, path',
        ]),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return lines.join('\r\n');
}

/** The tag of the To header of a response. */
export function toTagOf(response: string): string | undefined {
  const to = response.split('\r\n').find((line) => /^(to|t):/i.test(line));
  return to ? /;tag=([^;>\s]+)/.exec(to)?.[1] : undefined;
}
