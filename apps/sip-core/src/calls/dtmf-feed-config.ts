import type { HostPort } from '@switchboard/config';
import { DtmfFeed, dtmfFeedPorts } from '@switchboard/media';
import type { Logger } from 'pino';

/**
 * This worker's end of rtpengine's DTMF feed (RTPENGINE_DTMF_LISTEN, where rtpengine's `dtmf-log-dest`
 * points): worker n of a node listens on the port + n - 1, and worker 1, the one rtpengine sends to,
 * passes events of calls it does not hold on to the others. Unset: no feed (undefined).
 */
export async function startDtmfFeedFor(
  listen: HostPort | undefined,
  worker: { index: number; count: number },
  logger: Logger,
): Promise<DtmfFeed | undefined> {
  if (!listen) return undefined;
  const ports = dtmfFeedPorts(listen.port, worker.index, worker.count);
  const feed = await DtmfFeed.start({
    listen: { host: listen.host, port: ports.listen },
    relayTo: ports.relayTo,
    logger,
  });
  logger.info({ host: listen.host, port: ports.listen, relayTo: ports.relayTo }, 'DTMF feed listening');
  return feed;
}
