import type { PrismaClient } from '@switchboard/db';
import type { CallingSoftphone } from '@switchboard/testkit';
import { promptSeconds, waitFor } from './audio.ts';
import { DOMAIN } from './stack.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The box's owner on `phone` dials `*98`, types the PIN and `#` as RFC 4733 digits, waits out "You have
 * one new message", presses `1` (the message plays and is marked heard) and `7` (deleted), and the
 * platform ends the call. Bounded waits on the message's row; the caller checks what the phone heard.
 */
export async function listenThenDelete(
  phone: CallingSoftphone,
  box: { prisma: PrismaClient; dataDir: string; pin: string; messageId: string; ownerId: string },
): Promise<void> {
  const { prisma, dataDir, pin, messageId, ownerId } = box;
  phone.dial(`sip:*98@${DOMAIN}`);
  await phone.waitFor('established', 20_000);
  await sleep(1500);
  await phone.sendDigits?.(`${pin}#`);
  // "You have one new messages. Message." then the menu: 1 plays the message.
  await sleep(
    ((await promptSeconds(dataDir, 'vm-you-have')) +
      (await promptSeconds(dataDir, 'digit-1')) +
      (await promptSeconds(dataDir, 'vm-new-messages'))) *
      1000,
  );
  await phone.sendDigits?.('1');
  await waitFor('the message marked heard', async () =>
    (await prisma.voicemailMessage.findUnique({ where: { id: messageId } }))?.heard ? true : undefined,
  );
  await sleep(1000);
  await phone.sendDigits?.('7');
  await waitFor('the message deleted', async () =>
    (await prisma.voicemailMessage.count({ where: { subscriberId: ownerId } })) === 0 ? true : undefined,
  );
  await phone.waitFor('closed', 30_000);
}
