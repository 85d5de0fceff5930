import { rm } from 'node:fs/promises';
import type { MediaSession, PlayResult, PromptName } from '@switchboard/media-endpoint';

/** What a deposit needs from the voicemail service. */
export interface DepositContext {
  /** The greeting: the box's own one of the call's kind (busy or unavailable), else its default prompt. */
  greeting: string;
  /** Where the recording goes. */
  path: string;
  maxMessageSeconds: number;
  /** The box is full: the greeting plays, nothing is recorded. */
  full: boolean;
  prompt(name: PromptName): string;
  /** Stores the message (metadata, MWI, e-mail) once recorded. */
  stored(durationMs: number): Promise<void>;
}

/** Messages shorter than this are a caller who hung up at the beep: not kept. */
export const MIN_MESSAGE_MS = 1000;
const BEEP_HZ = 1000;
const BEEP_MS = 300;

/** The beep before a recording (a message, or a greeting recorded by phone). */
export function beep(session: MediaSession): Promise<PlayResult> {
  return session.tone(BEEP_HZ, BEEP_MS);
}

/**
 * Leaving a message: the greeting, a beep, then the recording until the caller hangs up, presses `#`
 * or the box's length limit is reached.
 */
export async function deposit(session: MediaSession, context: DepositContext): Promise<void> {
  await session.play(context.greeting);
  if (context.full) {
    await session.play(context.prompt('vm-goodbye'));
    return;
  }
  if ((await beep(session)) === 'closed') return;
  const result = await session.record(context.path, {
    maxSeconds: context.maxMessageSeconds,
    stopDigits: '#',
  });
  if (result.durationMs < MIN_MESSAGE_MS) {
    await rm(context.path, { force: true });
    return;
  }
  await context.stored(result.durationMs);
  if (!session.isClosed) await session.play(context.prompt('vm-goodbye'));
}
