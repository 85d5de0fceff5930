import { createSocket, type Socket } from 'node:dgram';
import type { Config } from '@switchboard/config';

/**
 * The all-in-one's own rtpengine reports the RFC 4733 keys it relays to sip-core (on-demand recording
 * codes, INFO towards DTMF-by-INFO carriers) without the operator naming a port: with RTPENGINE_DTMF_LISTEN
 * unset and no rtpengine of the operator's (RTPENGINE_NG), the feed takes free loopback UDP ports, one per
 * configured worker (worker n listens on the first port + n - 1). The ports stay bound here until sip-core
 * is about to bind them (`releaseDtmfFeedPorts`): chosen and let go at once, another process starting
 * meanwhile (a second launcher, anything binding port 0) could take one and sip-core would fail to start.
 */
export async function withLocalDtmfFeed(config: Config): Promise<Config> {
  if (config.rtpengineDtmfListen || config.rtpengineNg) return config;
  const port = await reserveLoopbackPorts(Math.max(1, config.sipCoreWorkers));
  return { ...config, rtpengineDtmfListen: { host: '127.0.0.1', port } };
}

/** Sockets holding the feed's ports from their choice until sip-core binds them. */
const reserved: Socket[] = [];

/** Lets go of the ports `withLocalDtmfFeed` holds, for sip-core's feed to bind them at once. */
export async function releaseDtmfFeedPorts(): Promise<void> {
  await Promise.all(reserved.splice(0).map(close));
}

/** Binds `count` consecutive UDP ports free on 127.0.0.1 (the system picks the first); the first. */
async function reserveLoopbackPorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await bound(0);
    if (first === undefined) continue;
    const sockets = [first];
    const base = first.address().port;
    let free = base + count - 1 <= 65535;
    for (let port = base + 1; free && port < base + count; port++) {
      const socket = await bound(port);
      if (socket) sockets.push(socket);
      else free = false;
    }
    if (free) {
      // Held, but never what keeps the process alive.
      for (const socket of sockets) socket.unref();
      reserved.push(...sockets);
      return base;
    }
    await Promise.all(sockets.map(close));
  }
  throw new Error(`no ${count} consecutive free UDP ports on 127.0.0.1 for rtpengine's DTMF feed`);
}

/** A UDP socket bound to 127.0.0.1:`port`, or undefined when the port is taken. */
function bound(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(undefined));
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

function close(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}
