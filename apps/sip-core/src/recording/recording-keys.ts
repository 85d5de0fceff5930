import type { Database, PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';
import type { CallRecorder } from './call-recorder.ts';
import { listenForRelayDtmf, type RelayDtmf } from './dtmf-events.ts';

/** Keys the relay reported for a call this worker does not hold, for the worker that does. */
export const RECORDING_KEYS_CHANNEL = 'switchboard_recording_keys';

/**
 * Routes the relay's DTMF reports (docs/pbx.md, "Recording on demand") to the call's recorder: the first
 * worker binds `listen` (rtpengine's `--dtmf-log-dest`); a key of a call another worker or node holds is
 * passed on through the database's notifications, which every worker follows. Returns the stop function.
 */
export async function routeRecordingKeys(
  recorder: Pick<CallRecorder, 'relayKey'>,
  options: {
    listen: { host: string; port: number } | undefined;
    /** This worker binds the socket (the node's first). */
    bind: boolean;
    /** Other workers hold calls too: keys of unknown calls are passed on. */
    passOn: boolean;
  },
  db: Pick<Database, 'onChange'>,
  prisma: Pick<PrismaClient, '$executeRaw'>,
  log: Logger,
): Promise<() => Promise<void>> {
  const deliver = (dtmf: RelayDtmf): boolean => recorder.relayKey(dtmf.callId, dtmf.sourceTag, dtmf.key);
  const stopFeed = await db.onChange(RECORDING_KEYS_CHANNEL, (payload) => {
    try {
      const dtmf = JSON.parse(payload) as RelayDtmf;
      if (typeof dtmf.callId === 'string' && typeof dtmf.key === 'string') deliver(dtmf);
    } catch {
      // not ours
    }
  });
  if (!options.listen || !options.bind) return stopFeed;
  let socket: { close(): Promise<void> } | undefined;
  try {
    socket = await listenForRelayDtmf(
      options.listen,
      (dtmf) => {
        if (deliver(dtmf) || !options.passOn) return;
        prisma.$executeRaw`SELECT pg_notify(${RECORDING_KEYS_CHANNEL}, ${JSON.stringify(dtmf)})`.catch(
          (error: unknown) => log.warn({ err: error }, 'passing a DTMF report on failed'),
        );
      },
      log,
    );
  } catch (error) {
    log.error({ err: error, listen: options.listen }, 'cannot receive the relay DTMF reports');
  }
  return async () => {
    await socket?.close();
    await stopFeed();
  };
}
