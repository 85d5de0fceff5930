import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

export interface PortRequest {
  /** Loopback address the port must be free on (default 127.0.0.1). */
  address?: string;
  /** Also free for TCP (sipp over TCP, softphones listening on both). Default: UDP only. */
  tcp?: boolean;
  /** How many consecutive ports must be free, starting at the returned one (default 1). */
  count?: number;
  /**
   * The first port even (an RTP port, RFC 3550 §11, with RTCP on the odd port above it): softphones
   * round an odd RTP port down, onto a port nobody allocated for them.
   */
  even?: boolean;
  /** Range to draw from; test files that run at the same time should not share one. Default: testPortRange(). */
  min?: number;
  max?: number;
}

/**
 * A port free right now on a loopback address, for programs that cannot be given port 0 (sipp,
 * baresip, linphonec). Drawn at random from a range so that test files running side by side rarely meet.
 */
export async function allocatePort(request: PortRequest = {}): Promise<number> {
  const address = request.address ?? '127.0.0.1';
  const count = request.count ?? 1;
  const range = testPortRange();
  const min = request.min ?? range.min;
  const max = (request.max ?? range.max) - (count - 1);
  for (let attempt = 0; attempt < 50; attempt++) {
    const drawn = min + Math.floor(Math.random() * (max - min + 1));
    const first = request.even && drawn % 2 === 1 ? (drawn > min ? drawn - 1 : drawn + 1) : drawn;
    if (first > max) continue;
    let free = !recentlyGiven(first, count);
    for (let port = first; free && port < first + count; port++) {
      free = (await udpFree(port, address)) && (!request.tcp || (await tcpFree(port, address)));
    }
    if (free) {
      remember(first, count);
      return first;
    }
  }
  throw new Error(`no ${count} free port(s) in ${min}-${max} on ${address}`);
}

/**
 * Ports this process handed out lately, with when: a program given a port binds it only once it has
 * started, so until then the port still looks free, and a second call must not hand it out again
 * (a sipp UAS started and a UAC allocated right after it once took the same port).
 */
const given = new Map<number, number>();
const GIVEN_FOR_MS = 20_000;

function recentlyGiven(first: number, count: number): boolean {
  const now = Date.now();
  for (const [port, at] of given) if (now - at > GIVEN_FOR_MS) given.delete(port);
  for (let port = first; port < first + count; port++) if (given.has(port)) return true;
  return false;
}

function remember(first: number, count: number): void {
  const now = Date.now();
  for (let port = first; port < first + count; port++) given.set(port, now);
}

/**
 * This package's own port range (TEST_PORT_RANGE, `min-max`, set per package by the shared vitest
 * config), so that two packages' suites running at once never draw the same port; default 16000-19999.
 */
export function testPortRange(): { min: number; max: number } {
  const match = /^(\d+)-(\d+)$/.exec(process.env.TEST_PORT_RANGE ?? '');
  return match ? { min: Number(match[1]), max: Number(match[2]) } : { min: 16000, max: 19999 };
}

function family(address: string): 'udp4' | 'udp6' {
  return address.includes(':') ? 'udp6' : 'udp4';
}

/** Whether UDP `address`:`port` can be bound right now (the probe is closed again). */
export function udpFree(port: number, address = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(family(address));
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, address, () => socket.close(() => resolve(true)));
  });
}

/** Whether TCP `address`:`port` can be listened on right now (the probe is closed again). */
export function tcpFree(port: number, address = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, address, () => server.close(() => resolve(true)));
  });
}
