import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The default English prompt set: what each prompt says. */
export const PROMPTS = {
  'vm-unavailable': 'The person you are calling is not available. Please leave a message after the tone.',
  'vm-enter-pin': 'Please enter your voicemail PIN, followed by the pound key.',
  'vm-invalid-pin': 'That PIN is not correct.',
  'vm-you-have': 'You have',
  'vm-new-messages': 'new messages.',
  'vm-no-messages': 'You have no more messages.',
  'vm-message': 'Message.',
  'vm-menu': 'Press 1 to listen, 7 to delete, 9 to save, or pound for the next message.',
  'vm-deleted': 'Message deleted.',
  'vm-saved': 'Message saved.',
  'vm-goodbye': 'Goodbye.',
  // A call that found the owner busy (CFB) and the box has no busy greeting of its own.
  'vm-busy': 'The person you are calling is on the phone. Please leave a message after the tone.',
  // Mailbox options of the phone menu: recording the box's greetings.
  'vm-options-hint': 'Press 0 for mailbox options, or hang up.',
  'vm-options':
    'Mailbox options. Press 1 to record your unavailable greeting, 2 to record your busy greeting, or star to go back.',
  'vm-record-greeting': 'Record your greeting after the tone. Press pound when you are done.',
  'vm-greeting-review': 'Press 1 to keep this greeting, 2 to record it again, or star to cancel.',
  'vm-greeting-saved': 'Your greeting has been saved.',
  'vm-greeting-cancelled': 'Your greeting was not changed.',
  'digit-0': 'zero',
  'digit-1': 'one',
  'digit-2': 'two',
  'digit-3': 'three',
  'digit-4': 'four',
  'digit-5': 'five',
  'digit-6': 'six',
  'digit-7': 'seven',
  'digit-8': 'eight',
  'digit-9': 'nine',
  // Played to both parties when a call's recording starts (customers with the announcement on).
  'recording-announcement': 'This call may be recorded.',
} as const;

export type PromptName = keyof typeof PROMPTS;

/**
 * Where a prompt is played from: an uploaded replacement (`<dir>/custom/<name>.wav`) before the
 * generated default (`<dir>/default/<name>.wav`).
 */
export function promptPath(dir: string, name: PromptName): string {
  const custom = join(dir, 'custom', `${name}.wav`);
  return existsSync(custom) ? custom : join(dir, 'default', `${name}.wav`);
}

/**
 * Generates the default prompts that are missing in `<dir>/default` with espeak-ng, converted by sox
 * to 8 kHz mono 16-bit WAV (what the endpoint plays). Runs at first start; a later start finds them.
 * Resolves with the names it could not make (espeak-ng or sox missing): those prompts stay silent.
 * `names`: only these (default all). `stop`: once aborted, no further prompt is started (a shutdown
 * during the first start waits only for the one being spoken, never for the whole set).
 */
export async function ensurePrompts(
  dir: string,
  voice = 'en-us',
  names: readonly PromptName[] = Object.keys(PROMPTS) as PromptName[],
  stop?: AbortSignal,
): Promise<PromptName[]> {
  const target = join(dir, 'default');
  await mkdir(target, { recursive: true });
  await mkdir(join(dir, 'custom'), { recursive: true });
  const failed: PromptName[] = [];
  for (const name of names) {
    if (stop?.aborted) break;
    const text = PROMPTS[name];
    const path = join(target, `${name}.wav`);
    if (existsSync(path)) continue;
    try {
      await speak(text, path, voice);
    } catch {
      failed.push(name);
    }
  }
  return failed;
}

/**
 * Speaks `text` with espeak-ng into `destination` in the prompt format (8 kHz mono 16-bit WAV, by
 * sox): a default prompt, or a greeting typed in the admin (an auto-attendant's). Rejects when
 * espeak-ng or sox fail or are missing.
 */
export async function speak(text: string, destination: string, voice = 'en-us'): Promise<void> {
  // Names of this run's own: two generators at once (voicemail, recording) never share a file.
  const unique = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const spoken = `${destination}.${unique}.espeak.wav`;
  const converted = `${destination}.${unique}.tmp.wav`;
  try {
    await run('espeak-ng', ['-v', voice, '-s', '150', '-w', spoken, text], { timeout: 30_000 });
    await run('sox', [spoken, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', converted], {
      timeout: 30_000,
    });
    // Renamed into place only when complete: a crash never leaves a half-written prompt.
    await rename(converted, destination);
  } finally {
    await rm(spoken, { force: true });
    await rm(converted, { force: true });
  }
}

/** Converts an uploaded audio file (any format sox reads) to the prompt format, at `destination`. */
export async function convertToPromptFormat(source: string, destination: string): Promise<void> {
  const temporary = `${destination}.tmp.wav`;
  try {
    await run('sox', [source, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', temporary], {
      timeout: 30_000,
    });
    await rename(temporary, destination);
  } finally {
    await rm(temporary, { force: true });
  }
}
