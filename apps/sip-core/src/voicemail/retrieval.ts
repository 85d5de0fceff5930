import type { MediaSession, PromptName } from '@switchboard/media-endpoint';
import type { StoredVoicemail } from './store.ts';

export interface RetrievalContext {
  prompt(name: PromptName): string;
  /** Checks a PIN against the box's hash. */
  checkPin(pin: string): Promise<boolean>;
  messages(): Promise<StoredVoicemail[]>;
  /** Runs `use` with the recording as a file (a copy while it plays, when kept in object storage). */
  withAudio(message: StoredVoicemail, use: (path: string) => Promise<unknown>): Promise<void>;
  markHeard(message: StoredVoicemail): Promise<void>;
  remove(message: StoredVoicemail): Promise<void>;
}

const PIN_ATTEMPTS = 3;
const DIGIT_TIMEOUT_MS = 8000;

/**
 * Listening to one's box from one's own phone: the PIN (RFC 4733 digits, `#` ends it), at most three
 * tries; then the number of new messages and, per message, the menu: 1 listen, 7 delete, 9 save (kept
 * as heard), # next. Listening marks a message heard, which updates the phones' MWI.
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
  await session.play(prompt('vm-no-messages'));
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
  }
  return !session.isClosed;
}

async function sayNumber(session: MediaSession, context: RetrievalContext, value: number): Promise<void> {
  for (const digit of String(value))
    await session.play(context.prompt(`digit-${digit}` as PromptName), { interruptible: true });
}
