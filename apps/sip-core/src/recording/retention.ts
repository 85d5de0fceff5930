import type { PrismaClient } from '@switchboard/db';
import type { ObjectStorage } from '@switchboard/storage';
import type { Logger } from 'pino';

const DAY_MS = 86_400_000;
/** Rows deleted per customer and round: a large backlog is worked off over several rounds. */
const BATCH = 500;

/**
 * Deletes recordings older than their customer's `recording_retention_days` (rows and files or objects),
 * at most BATCH per customer per round. Several nodes may run it at once: deleting a row or file twice is
 * harmless.
 * Returns how many recordings were deleted.
 */
export async function deleteExpiredRecordings(
  prisma: PrismaClient,
  storage: ObjectStorage,
  log: Logger,
  now = new Date(),
): Promise<number> {
  const customers = await prisma.customer.findMany({
    where: { recordingRetentionDays: { not: null }, recordings: { some: {} } },
    select: { id: true, recordingRetentionDays: true },
  });
  let deleted = 0;
  for (const customer of customers) {
    const cutoff = new Date(now.getTime() - (customer.recordingRetentionDays ?? 0) * DAY_MS);
    const expired = await prisma.callRecording.findMany({
      where: { customerId: customer.id, createdAt: { lt: cutoff } },
      select: { id: true, filePath: true },
      orderBy: { createdAt: 'asc' },
      take: BATCH,
    });
    if (expired.length === 0) continue;
    // Files first: a row whose file is gone is deleted next round; a file without a row would stay forever.
    for (const recording of expired) await storage.delete(recording.filePath);
    const result = await prisma.callRecording.deleteMany({ where: { id: { in: expired.map((r) => r.id) } } });
    deleted += result.count;
  }
  if (deleted > 0) log.info({ deleted }, 'expired recordings deleted');
  return deleted;
}

/** Runs deleteExpiredRecordings every `intervalMs` (first run after one interval); returns the stop function. */
export function startRetention(
  prisma: PrismaClient,
  storage: ObjectStorage,
  log: Logger,
  intervalMs = 3_600_000,
): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    deleteExpiredRecordings(prisma, storage, log)
      .catch((error: unknown) => log.error({ err: error }, 'deleting expired recordings failed'))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
