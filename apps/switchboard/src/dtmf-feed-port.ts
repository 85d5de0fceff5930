import { createSocket } from 'node:dgram';
import type { Config } from '@switchboard/config';

/**
 * The all-in-one's own rtpengine reports the RFC 4733 keys it relays to sip-core (on-demand recording
 * codes, INFO towards DTMF-by-INFO carriers) without the operator naming a port: with RTPENGINE_DTMF_LISTEN
 * unset and no rtpengine of the operator's (RTPENGINE_NG), the feed takes free loopback UDP ports, one per
 * configured worker (worker n listens on the first port + n - 1).
 */
export async function withLocalDtmfFeed(config: Config): Promise<Config> {
  if (config.rtpengineDtmfListen || config.rtpengineNg) return config;
  const port = await freeLoopbackPorts(Math.max(1, config.sipCoreWorkers));
  return { ...config, rtpengineDtmfListen: { host: '127.0.0.1', port } };
}

/** The first of `count` consecutive UDP ports free on 127.0.0.1 now (the system picks the first). */
async function freeLoopbackPorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await bound(0);
    if (first === undefined) continue;
    let free = first + count - 1 <= 65535;
    for (let port = first + 1; free && port < first + count; port++) free = (await bound(port)) !== undefined;
    if (free) return first;
  }
  throw new Error(`no ${count} consecutive free UDP ports on 127.0.0.1 for rtpengine's DTMF feed`);
}

/** Binds and closes a UDP socket on 127.0.0.1:`port`; the port it got, or undefined when taken. */
function bound(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(undefined));
    socket.bind(port, '127.0.0.1', () => {
      const got = socket.address().port;
      socket.close(() => resolve(got));
    });
  });
}
