import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Settings } from '@switchboard/config';
import { verifyPassword } from '@switchboard/db';
import type { LegProfile } from '@switchboard/media';
import { ensurePrompts, MediaSession, type PromptName, promptPath } from '@switchboard/media-endpoint';
import {
  createStorage,
  type ObjectStorage,
  STORAGE_AREAS,
  spoolFor,
  withLocalCopy,
} from '@switchboard/storage';
import type { Logger } from 'pino';
import type { LocalMediaApp } from '../calls/call-types.ts';
import type { CachedSubscriber } from '../directory/directory.ts';
import { deposit } from './deposit.ts';
import type { VoicemailMailer } from './mail.ts';
import { retrieve } from './retrieval.ts';
import {
  GREETING_COLUMN,
  type GreetingKind,
  type VoicemailBoxSettings,
  type VoicemailStore,
} from './store.ts';

export interface VoicemailOptions {
  /** `$DATA_DIR`: prompts in `prompts/`, recordings in `voicemail/messages/`, greetings in `voicemail/greetings/`. */
  dataDir: string;
  /** Messages and greetings in this bucket instead of the data directory (docs/pbx.md); unset: the folders. */
  objectStorage?: S3Settings | undefined;
  /** Address the media sockets bind to and announce (where the relay sends RTP). */
  mediaAddress: string;
  /** RTP ports of the media sockets; default: any free port. */
  rtpPorts?: { min: number; max: number } | undefined;
  /** Voicemail to e-mail; unset: no SMTP configured, boxes with an address are not mailed. */
  mailer?: VoicemailMailer | undefined;
  /** What a subscriber dials to reach its own box (default `*98`). */
  accessCode: string;
  log: Logger;
}

/** The default prompt of each greeting kind, for a box without its own. */
const DEFAULT_GREETING: Record<GreetingKind, PromptName> = { unavailable: 'vm-unavailable', busy: 'vm-busy' };

/** Longest greeting recorded by phone. */
export const MAX_GREETING_SECONDS = 60;

/**
 * The greeting a deposit plays: the busy one when a busy forward (CFB) led here, the unavailable one
 * for every other way (CFU, CFT, CFNA, an attendant). A hunt group carries no forward type and chooses
 * itself (busy when all its members were busy).
 */
export function greetingKindOf(forwardType: string | undefined): GreetingKind {
  return forwardType === 'cfb' ? 'busy' : 'unavailable';
}

/**
 * The media leg towards our endpoint: plain RTP at the address it announces, in G.711, the one codec
 * the endpoint speaks. A caller that offers neither PCMU nor PCMA (an Opus- or G.722-only phone) gets
 * them added towards the endpoint and the relay transcodes; rtpengine adds a `transcode` codec only
 * when the offer lacks it, so a caller offering G.711 is relayed unchanged.
 */
export const ENDPOINT_PROFILE: LegProfile = { transport: 'rtp', codecs: { transcode: ['PCMU', 'PCMA'] } };

/**
 * Recordings, greetings and prompts live under these paths of the data directory; with object storage,
 * recordings and greetings pass through `spool` (a message while it is recorded, a greeting while it plays).
 */
export function voicemailPaths(dataDir: string): {
  messages: string;
  greetings: string;
  prompts: string;
  spool: string;
} {
  return {
    messages: join(dataDir, 'voicemail', 'messages'),
    greetings: join(dataDir, 'voicemail', 'greetings'),
    prompts: join(dataDir, 'prompts'),
    spool: join(dataDir, 'voicemail', 'spool'),
  };
}

/**
 * Voicemail (docs/pbx.md#voicemail): leaving a message when a call forward or a hunt group sends a
 * call here, and listening from one's own phone, both answered by the media endpoint in this
 * process; the box's new/old counts feed message-summary NOTIFYs (RFC 3842).
 */
export class Voicemail {
  private readonly paths: ReturnType<typeof voicemailPaths>;
  /** The messages' audio, by the file name their row stores. */
  readonly messages: ObjectStorage;
  /** The uploaded greetings, by the file name the box stores. */
  readonly greetings: ObjectStorage;

  constructor(
    readonly store: VoicemailStore,
    private readonly options: VoicemailOptions,
  ) {
    this.paths = voicemailPaths(options.dataDir);
    this.messages = createStorage(
      options.objectStorage,
      this.paths.messages,
      STORAGE_AREAS.voicemailMessages,
    );
    this.greetings = createStorage(
      options.objectStorage,
      this.paths.greetings,
      STORAGE_AREAS.voicemailGreetings,
    );
  }

  get accessCode(): string {
    return this.options.accessCode;
  }

  /** Resolves once the default prompts exist (generated at first start, which takes a while). */
  promptsReady: Promise<void> = Promise.resolve();
  private readonly stopPrompts = new AbortController();

  /**
   * Creates the folders and loads the counts; the default prompts that are missing (espeak-ng, sox)
   * are generated meanwhile, without holding up the start (`promptsReady`).
   */
  async start(): Promise<void> {
    await mkdir(this.paths.messages, { recursive: true, mode: 0o750 });
    await mkdir(this.paths.greetings, { recursive: true, mode: 0o750 });
    await this.store.load();
    if (this.options.objectStorage)
      this.options.log.info(
        { messages: this.messages.location, greetings: this.greetings.location },
        'voicemail audio kept in object storage',
      );
    this.promptsReady = ensurePrompts(this.paths.prompts, undefined, undefined, this.stopPrompts.signal).then(
      (missing) => {
        if (missing.length > 0)
          this.options.log.warn(
            { missing },
            'voicemail prompts could not be generated (espeak-ng and sox needed)',
          );
      },
      (error: unknown) => this.options.log.warn({ err: error }, 'voicemail prompts could not be generated'),
    );
  }

  private prompt = (name: PromptName): string => promptPath(this.paths.prompts, name);

  private openSession = (offer: string): Promise<MediaSession> =>
    MediaSession.open(offer, { address: this.options.mediaAddress, ports: this.options.rtpPorts });

  /** The box of a subscriber when voicemail is on for it, else undefined (the forward is skipped). */
  async boxOf(subscriberId: string): Promise<VoicemailBoxSettings | undefined> {
    const box = await this.store.box(subscriberId);
    return box?.enabled ? box : undefined;
  }

  /** Leaving a message in `owner`'s box; `caller` as the owner may see it; `kind`: which greeting plays. */
  depositApp(
    owner: CachedSubscriber,
    box: VoicemailBoxSettings,
    caller: string,
    kind: GreetingKind,
  ): LocalMediaApp<MediaSession> {
    const { store, options } = this;
    return {
      open: this.openSession,
      run: async (session) => {
        const id = randomUUID();
        const file = `${owner.id}-${id}.wav`;
        // Recorded in place in the folder, or into the spool and uploaded once complete.
        const spooled = await spoolFor(this.messages, file, this.paths.spool);
        const path = spooled.path;
        const receivedAt = new Date();
        let mailing: Promise<void> | undefined;
        let keep = false;
        try {
          await this.withGreeting(box, kind, async (greeting) =>
            deposit(session, {
              greeting,
              path,
              maxMessageSeconds: box.maxMessageSeconds,
              full: (await store.count(owner.id)) >= box.maxMessages,
              prompt: this.prompt,
              stored: async (durationMs) => {
                try {
                  await spooled.commit();
                } catch (error) {
                  // Kept for the operator to upload by hand: the caller's message is not dropped silently.
                  keep = true;
                  options.log.error(
                    { err: error, mailbox: owner.id, spooled: path },
                    'voicemail not uploaded to object storage; the recording stays in the spool',
                  );
                  throw error;
                }
                const message = await store.add({
                  subscriberId: owner.id,
                  customerId: owner.customerId,
                  caller,
                  durationMs,
                  file,
                });
                options.log.info({ mailbox: owner.id, message: message.id, durationMs }, 'voicemail stored');
                if (box.email && options.mailer)
                  mailing = this.mail(owner, box, message.id, { caller, durationMs, path, file, receivedAt });
              },
            }),
          );
        } finally {
          // The spooled copy goes once the e-mail (which attaches it) is out.
          if (!keep) void (mailing ?? Promise.resolve()).finally(() => spooled.release());
        }
      },
    };
  }

  /**
   * Runs `use` with the box's own greeting of `kind` as a file (fetched from the bucket when there is
   * one), or that kind's default prompt when the box has none or it cannot be fetched.
   */
  private async withGreeting<T>(
    box: VoicemailBoxSettings,
    kind: GreetingKind,
    use: (path: string) => Promise<T>,
  ): Promise<T> {
    const greeting = box[GREETING_COLUMN[kind]];
    const unavailable = this.prompt(DEFAULT_GREETING[kind]);
    if (!greeting) return use(unavailable);
    let fetched = false;
    try {
      return await withLocalCopy(this.greetings, greeting, this.paths.spool, (path) => {
        fetched = true;
        return use(path ?? unavailable);
      });
    } catch (error) {
      if (fetched) throw error;
      // The bucket did not answer: the caller still gets the default greeting and can leave a message.
      this.options.log.warn(
        { err: error, greeting },
        'voicemail greeting not fetched; the default one plays',
      );
      return use(unavailable);
    }
  }

  /** E-mails a new message; deletes it afterwards when the box says so. A failure keeps the message. */
  private async mail(
    owner: CachedSubscriber,
    box: VoicemailBoxSettings,
    messageId: string,
    message: { caller: string; durationMs: number; path: string; file: string; receivedAt: Date },
  ): Promise<void> {
    if (!box.email || !this.options.mailer) return;
    try {
      await this.options.mailer.send({
        to: box.email,
        mailbox: `${owner.username}@${owner.domain}`,
        caller: message.caller,
        receivedAt: message.receivedAt,
        durationMs: message.durationMs,
        wavPath: message.path,
      });
      if (box.deleteAfterEmail) {
        await this.store.remove(messageId);
        await this.messages.delete(message.file);
      }
    } catch (error) {
      this.options.log.warn(
        { err: error, mailbox: owner.id },
        'voicemail e-mail not sent; the message is kept',
      );
    }
  }

  /** Listening to one's own box (PIN, menu) and recording its greetings. */
  retrievalApp(owner: CachedSubscriber, box: VoicemailBoxSettings): LocalMediaApp<MediaSession> {
    const { store } = this;
    // Greetings recorded in this call and not yet kept or dropped, by file name.
    const drafts = new Map<string, Awaited<ReturnType<typeof spoolFor>>>();
    return {
      open: this.openSession,
      run: (session) =>
        retrieve(session, {
          prompt: this.prompt,
          checkPin: async (pin) => (box.pinHash ? verifyPassword(pin, box.pinHash) : false),
          messages: () => store.list(owner.id),
          withAudio: (message, use) =>
            withLocalCopy(this.messages, message.file, this.paths.spool, async (path) => {
              if (path) await use(path);
            }),
          markHeard: (message) => store.markHeard(message.id),
          remove: async (message) => {
            await store.remove(message.id);
            await this.messages.delete(message.file);
          },
          maxGreetingSeconds: MAX_GREETING_SECONDS,
          // Recorded in the endpoint's format (8 kHz mono WAV, as an upload is converted to) under a
          // name of its own: into the greetings folder, or into the spool and uploaded once kept.
          greetingDraft: async () => {
            const file = `${owner.id}-${randomUUID()}.wav`;
            const spooled = await spoolFor(this.greetings, file, this.paths.spool);
            drafts.set(file, spooled);
            return { file, path: spooled.path };
          },
          keepGreeting: async (kind, draft) => {
            const spooled = drafts.get(draft.file);
            drafts.delete(draft.file);
            try {
              await spooled?.commit();
            } finally {
              await spooled?.release();
            }
            const replaced = await store.setGreeting(owner.id, kind, draft.file);
            if (replaced) await this.greetings.delete(replaced);
            this.options.log.info({ mailbox: owner.id, kind }, 'voicemail greeting recorded by phone');
          },
          dropGreeting: async (draft) => {
            await drafts.get(draft.file)?.release();
            drafts.delete(draft.file);
            // A draft recorded into the folder itself is the storage's own file.
            if (this.greetings.fileOf(draft.file) !== undefined) await this.greetings.delete(draft.file);
          },
        }),
    };
  }

  /** Stops generating prompts (waiting for the one being spoken, so no file is written after) and the mailer. */
  async close(): Promise<void> {
    this.stopPrompts.abort();
    await this.promptsReady;
    this.options.mailer?.close();
  }
}
