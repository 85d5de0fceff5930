import type { MediaSession, PromptName } from '@switchboard/media-endpoint';
import { beep, MIN_MESSAGE_MS } from './deposit.ts';
import type { GreetingKind, StoredVoicemail } from './store.ts';

/** A greeting recorded by phone, not yet kept: its file name in the greetings folder and its path. */
export interface GreetingDraft {
  file: string;
  path: string;
}

export interface RetrievalContext {
  prompt(name: PromptName): string;
  /** Checks a PIN against the box's hash. */
  checkPin(pin: string): Promise<boolean>;
  messages(): Promise<StoredVoicemail[]>;
  /** Runs `use` with the recording as a file (a copy while it plays, when kept in object storage). */
  withAudio(message: StoredVoicemail, use: (path: string) => Promise<unknown>): Promise<void>;
  markHeard(message: StoredVoicemail): Promise<void>;
  remove(message: StoredVoicemail): Promise<void>;
  /** Longest greeting recorded by phone. */
  maxGreetingSeconds: number;
  /** Where the next greeting recording goes. */
  greetingDraft(): Promise<GreetingDraft>;
  /** Makes a recorded draft the box's greeting of `kind` (the one it replaces is removed). */
  keepGreeting(kind: GreetingKind, draft: GreetingDraft): Promise<void>;
  /** Removes a draft that was not kept. */
  dropGreeting(draft: GreetingDraft): Promise<void>;
}

const PIN_ATTEMPTS = 3;
const DIGIT_TIMEOUT_MS = 8000;
/** Rounds of a menu nobody answers sensibly before it gives up (every loop bounded). */
const MENU_ROUNDS = 5;

/**
 * Listening to one's box from one's own phone: the PIN (RFC 4733 digits, `#` ends it), at most three
 * tries; then the number of new messages and, per message, the menu: 1 listen, 7 delete, 9 save (kept
 * as heard), # next. Listening marks a message heard, which updates the phones' MWI. `0` (in a
 * message's menu, or after the last message) opens the mailbox options: 1 records the unavailable
 * greeting, 2 the busy one.
 */
export async function retrieve(session: MediaSession, context: RetrievalContext): Promise<void> {
  const { prompt } = context;
  let authenticated = false;
  for (let attempt = 0; attempt < PIN_ATTEMPTS && !authenticated && !session.isClosed; attempt++) {
    await session.play(prompt('vm-enter-pin'), { interruptible: true });
    const pin = await session.collectDigits({ max: 12, timeoutMs: DIGIT_TIMEOUT_MS, terminator: '#' });
    authenticated = pin.length > 0 && (await context.checkPin(pin));
    if (!authenticated && !session.isClosed) await session.play(prompt('vm-invalid-pin'));
  }
  if (!authenticated) {
    await session.play(prompt('vm-goodbye'));
    return;
  }
  const messages = await context.messages();
  const fresh = messages.filter((m) => !m.heard).length;
  await session.play(prompt('vm-you-have'), { interruptible: true });
  await sayNumber(session, context, fresh);
  await session.play(prompt('vm-new-messages'), { interruptible: true });
  for (const message of messages) {
    if (session.isClosed) return;
    if (!(await menu(session, context, message))) break;
  }
  await session.play(prompt('vm-no-messages'), { interruptible: true });
  for (let round = 0; round < MENU_ROUNDS && !session.isClosed; round++) {
    await session.play(prompt('vm-options-hint'), { interruptible: true });
    if ((await session.nextDigit(DIGIT_TIMEOUT_MS)) !== '0') break;
    await mailboxOptions(session, context);
  }
  await session.play(prompt('vm-goodbye'));
}

/** One message's menu; false when the caller went silent (the call ends). */
async function menu(
  session: MediaSession,
  context: RetrievalContext,
  message: StoredVoicemail,
): Promise<boolean> {
  const { prompt } = context;
  await session.play(prompt('vm-message'), { interruptible: true });
  for (let round = 0; round < 5 && !session.isClosed; round++) {
    await session.play(prompt('vm-menu'), { interruptible: true });
    const choice = await session.nextDigit(DIGIT_TIMEOUT_MS);
    if (choice === undefined) return false;
    if (choice === '1') {
      session.clearDigits();
      await context.withAudio(message, (path) => session.play(path, { interruptible: true }));
      await context.markHeard(message);
    } else if (choice === '7') {
      await context.remove(message);
      await session.play(prompt('vm-deleted'));
      return true;
    } else if (choice === '9') {
      await context.markHeard(message);
      await session.play(prompt('vm-saved'));
      return true;
    } else if (choice === '#') return true;
    else if (choice === '0') await mailboxOptions(session, context);
  }
  return !session.isClosed;
}

/** The mailbox options: 1 records the unavailable greeting, 2 the busy one, `*` goes back. */
async function mailboxOptions(session: MediaSession, context: RetrievalContext): Promise<void> {
  for (let round = 0; round < MENU_ROUNDS && !session.isClosed; round++) {
    await session.play(context.prompt('vm-options'), { interruptible: true });
    const choice = await session.nextDigit(DIGIT_TIMEOUT_MS);
    if (choice === '1') await recordGreeting(session, context, 'unavailable');
    else if (choice === '2') await recordGreeting(session, context, 'busy');
    else if (choice === '*' || choice === undefined) return;
  }
}

/**
 * Records a greeting from the caller's audio after a beep, ended by `#` or the length limit, plays
 * it back and asks: 1 keeps it as the box's greeting of `kind`, 2 records again, `*` (or silence)
 * cancels. Only a kept recording replaces the greeting; a hang-up keeps the old one.
 */
async function recordGreeting(session: MediaSession, context: RetrievalContext, kind: GreetingKind) {
  const { prompt } = context;
  for (let attempt = 0; attempt < MENU_ROUNDS && !session.isClosed; attempt++) {
    // Digits typed before the beep belong to no answer: the recording starts clean.
    session.clearDigits();
    await session.play(prompt('vm-record-greeting'));
    if ((await beep(session)) === 'closed') return;
    const draft = await context.greetingDraft();
    const result = await session.record(draft.path, {
      maxSeconds: context.maxGreetingSeconds,
      stopDigits: '#',
    });
    const decision =
      session.isClosed || result.durationMs < MIN_MESSAGE_MS
        ? 'again'
        : await review(session, context, draft);
    if (decision === 'keep') {
      await context.keepGreeting(kind, draft);
      await session.play(prompt('vm-greeting-saved'));
      return;
    }
    await context.dropGreeting(draft);
    if (decision === 'cancel') break;
  }
  await session.play(prompt('vm-greeting-cancelled'));
}

/** Plays a recorded greeting back and asks what to do with it. */
async function review(
  session: MediaSession,
  context: RetrievalContext,
  draft: GreetingDraft,
): Promise<'keep' | 'again' | 'cancel'> {
  for (let round = 0; round < MENU_ROUNDS && !session.isClosed; round++) {
    await session.play(draft.path, { interruptible: true });
    await session.play(context.prompt('vm-greeting-review'), { interruptible: true });
    const choice = await session.nextDigit(DIGIT_TIMEOUT_MS);
    if (choice === '1') return 'keep';
    if (choice === '2') return 'again';
    if (choice === '*' || choice === undefined) return 'cancel';
  }
  return 'cancel';
}

async function sayNumber(session: MediaSession, context: RetrievalContext, value: number): Promise<void> {
  for (const digit of String(value))
    await session.play(context.prompt(`digit-${digit}` as PromptName), { interruptible: true });
}
