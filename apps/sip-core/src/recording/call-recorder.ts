import { randomUUID } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PrismaClient } from '@switchboard/db';
import {
  type CallCapture,
  type CallStatistics,
  findCallCaptures,
  type MediaSession,
  readPcapRtp,
  removeCapture,
  stereoWav,
} from '@switchboard/media';
import type { Logger } from 'pino';
import type { Directory } from '../directory/directory.ts';
import { type RecordingOwner, recordingOwners } from './recording-policy.ts';
import { notifyRecordingReady, type RecordingReady } from './recording-webhook.ts';

export interface RecordingOptions {
  /** rtpengine's `--recording-dir` (pcap method) as this node sees it: local, or a shared folder. */
  captureDir: string;
  /** Where the finished WAV files go (the API serves them from the same folder). */
  storageDir: string;
  /**
   * A WAV file on the relay's host played to both parties when recording starts, for customers with
   * `recording_announcement`; unset: no announcement.
   */
  announcementFile?: string | undefined;
  /** How long to wait for rtpengine to close a call's capture after the call ended (default 5 s). */
  captureWaitMs?: number;
}

/** A call being recorded: started at its answer, turned into files when it has ended. */
export interface ActiveRecording {
  finish(ended: RecordedCall): Promise<void>;
}

export interface RecordedCall {
  cdrId: string | undefined;
  callId: string;
  stats: CallStatistics | null;
  /** The caller's (A leg's) tag and the answering callee's. */
  aTag: string;
  bTag: string | undefined;
}

/**
 * Call recording (docs/pbx.md): at the answer, asks the relay to record a call one of whose parties'
 * customers records (`recording_mode`), plays the announcement; once the call has ended, turns rtpengine's
 * capture into one stereo WAV (caller left, callee right) per recording customer, links it to the CDR and
 * tells the customer's webhook. Never throws into call handling.
 */
export class CallRecorder {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly directory: Pick<Directory, 'subscriberById'>,
    private readonly options: RecordingOptions,
    private readonly sealingKey: () => Buffer,
    private readonly log: Logger,
  ) {}

  /** At the answer: starts recording when a party's customer records; undefined when none does. */
  async answered(call: {
    session: MediaSession | undefined;
    callId: string;
    aTag: string;
    bTag: string | undefined;
    subscriberIds: Array<string | undefined>;
  }): Promise<ActiveRecording | undefined> {
    const owners = recordingOwners(this.directory, call.subscriberIds);
    if (owners.length === 0 || !call.session) return undefined;
    const session = call.session;
    try {
      await session.startRecording();
    } catch (error) {
      this.log.error({ err: error, callId: call.callId }, 'the relay did not start recording');
      return undefined;
    }
    this.log.info({ callId: call.callId, customers: owners.map((o) => o.customerId) }, 'recording the call');
    const file = this.options.announcementFile;
    if (file && owners.some((o) => o.announcement)) {
      for (const tag of [call.aTag, call.bTag]) {
        if (!tag) continue;
        session
          .playMedia({ file, tag })
          .catch((error: unknown) => this.log.warn({ err: error, tag }, 'recording announcement failed'));
      }
    }
    return { finish: (ended) => this.finish(owners, ended) };
  }

  private async finish(owners: RecordingOwner[], call: RecordedCall): Promise<void> {
    try {
      await this.store(owners, call);
    } catch (error) {
      this.log.error({ err: error, callId: call.callId }, 'storing the recording failed');
    }
  }

  private async store(owners: RecordingOwner[], call: RecordedCall): Promise<void> {
    const left = relayPort(call.stats, call.aTag);
    const right = call.bTag ? relayPort(call.stats, call.bTag) : undefined;
    const captures = await this.closedCaptures(call.callId);
    if (!call.cdrId || left === undefined || right === undefined || captures.length === 0) {
      this.log.warn(
        { callId: call.callId, cdrId: call.cdrId, left, right, captures: captures.length },
        'nothing to store for a recorded call',
      );
      return;
    }
    const packets = [];
    for (const capture of captures) packets.push(...readPcapRtp(await readFile(capture.pcap)));
    packets.sort((a, b) => a.timeMs - b.timeMs);
    const { wav, durationMs } = stereoWav(packets, { left, right });
    const ready: RecordingReady[] = [];
    for (const owner of owners) {
      const id = randomUUID();
      const month = new Date().toISOString().slice(0, 7);
      const filePath = `${owner.customerId}/${month}/${id}.wav`;
      const absolute = join(this.options.storageDir, filePath);
      await mkdir(dirname(absolute), { recursive: true });
      await writeFile(absolute, wav, { mode: 0o640 });
      const row = await this.prisma.callRecording.create({
        data: {
          id,
          cdrId: call.cdrId,
          customerId: owner.customerId,
          subscriberId: owner.subscriberId,
          filePath,
          durationMs,
          sizeBytes: wav.length,
        },
      });
      this.log.info({ callId: call.callId, recordingId: id, durationMs }, 'recording stored');
      ready.push({
        event: 'recording.ready',
        recordingId: id,
        cdrId: call.cdrId,
        callId: call.callId,
        customerId: owner.customerId,
        subscriberId: owner.subscriberId,
        durationMs,
        sizeBytes: wav.length,
        createdAt: row.createdAt.toISOString(),
        audioPath: `/api/v1/recordings/${id}/audio`,
      });
    }
    for (const capture of captures) await removeCapture(capture);
    for (const event of ready) await notifyRecordingReady(this.prisma, this.sealingKey, this.log, event);
  }

  /**
   * The call's captures once rtpengine has closed them: the metadata file is there and the pcap's size
   * stopped growing. Bounded by `captureWaitMs`.
   */
  private async closedCaptures(callId: string): Promise<CallCapture[]> {
    const deadline = Date.now() + (this.options.captureWaitMs ?? 5_000);
    let lastSizes = '';
    while (Date.now() < deadline) {
      const captures = await findCallCaptures(this.options.captureDir, callId);
      const sizes = (
        await Promise.all(
          captures.map((c) =>
            stat(c.pcap).then(
              (s) => s.size,
              () => -1,
            ),
          ),
        )
      ).join();
      if (captures.length > 0 && !sizes.includes('-1') && sizes === lastSizes) return captures;
      lastSizes = sizes;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return findCallCaptures(this.options.captureDir, callId);
  }
}

/** The relay port the leg `tag` sends its audio to (its RTP stream's local port), from the final stats. */
function relayPort(stats: CallStatistics | null, tag: string): number | undefined {
  const leg = stats?.legs.find((l) => l.tag === tag);
  return leg?.streams.find((s) => s.component === 'rtp' && s.mediaType === 'audio')?.localPort;
}
