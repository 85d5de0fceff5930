import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaSession, speak } from '@switchboard/media-endpoint';
import type { Logger } from 'pino';
import type { Attendants, CachedAttendant } from '../calls/attendants.ts';
import type { EarlyMediaApp } from '../calls/call-types.ts';
import { type MenuChoice, runMenu } from './menu.ts';

export interface AttendantMediaOptions {
  /** `$DATA_DIR`: uploaded greetings in `attendants/greetings/`, generated ones in `attendants/generated/`. */
  dataDir: string;
  /** Address the media sockets bind to and announce (where the relay sends RTP). */
  mediaAddress: string;
  rtpPorts?: { min: number; max: number } | undefined;
  log: Logger;
}

/** Where the API puts uploaded greetings and sip-core its generated ones (the same `DATA_DIR`). */
export function attendantPaths(dataDir: string): { greetings: string; generated: string } {
  return {
    greetings: join(dataDir, 'attendants', 'greetings'),
    generated: join(dataDir, 'attendants', 'generated'),
  };
}

/**
 * The media side of the auto-attendants (docs/pbx.md#auto-attendant): each call's menu runs on the
 * media endpoint in this process. A greeting typed as text is spoken by espeak-ng once (named by a hash
 * of the text, so a changed text makes a new file) and kept; an uploaded one is played as the API
 * converted it.
 */
export class AttendantMedia {
  private readonly paths: ReturnType<typeof attendantPaths>;
  /** Generations running, by file: two calls at once wait for the same one. */
  private readonly generating = new Map<string, Promise<void>>();

  constructor(
    readonly attendants: Attendants,
    private readonly options: AttendantMediaOptions,
  ) {
    this.paths = attendantPaths(options.dataDir);
  }

  /** Loads the attendants; their greetings are spoken meanwhile, without holding up the start. */
  async start(): Promise<void> {
    await mkdir(this.paths.generated, { recursive: true, mode: 0o750 });
    await this.attendants.load();
    this.prepareGreetings();
  }

  /** After a change: the attendants again, and any new greeting text spoken ahead of the first call. */
  async onChanged(): Promise<void> {
    await this.attendants.load();
    this.prepareGreetings();
  }

  private prepareGreetings(): void {
    for (const attendant of this.attendants.all())
      if (!attendant.greetingFile) void this.greetingOf(attendant).catch(() => undefined);
  }

  /** The greeting's file: the uploaded one, else the text spoken (generated now if it is not yet). */
  async greetingOf(attendant: CachedAttendant): Promise<string> {
    if (attendant.greetingFile) return join(this.paths.greetings, attendant.greetingFile);
    const hash = createHash('sha256').update(attendant.greetingText).digest('hex').slice(0, 24);
    const file = join(this.paths.generated, `${hash}.wav`);
    if (existsSync(file)) return file;
    let running = this.generating.get(file);
    if (!running) {
      running = speak(attendant.greetingText, file).finally(() => this.generating.delete(file));
      this.generating.set(file, running);
    }
    try {
      await running;
    } catch (error) {
      this.options.log.warn(
        { err: error, attendant: attendant.id },
        'auto-attendant greeting could not be spoken',
      );
    }
    return file;
  }

  /** The menu of `attendant` as early media: greeting, one digit, the caller's choice. */
  menuApp(attendant: CachedAttendant): EarlyMediaApp<MediaSession, MenuChoice> {
    return {
      open: (offer) =>
        MediaSession.open(offer, { address: this.options.mediaAddress, ports: this.options.rtpPorts }),
      run: async (session) =>
        runMenu(session, {
          greeting: await this.greetingOf(attendant),
          digitTimeoutMs: attendant.digitTimeoutS * 1000,
          maxReplays: attendant.maxReplays,
          menu: attendant.menu,
        }),
    };
  }
}
