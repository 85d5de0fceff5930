import { createHmac } from 'node:crypto';
import type { PrismaClient } from '@switchboard/db';
import { recordingWebhookSecretContext, unseal } from '@switchboard/push';
import type { Logger } from 'pino';

/** What the customer's webhook receives when a recording is ready (docs/pbx.md). */
export interface RecordingReady {
  event: 'recording.ready';
  recordingId: string;
  cdrId: string;
  callId: string;
  customerId: string;
  subscriberId: string;
  durationMs: number;
  sizeBytes: number;
  createdAt: string;
  /** API path of the audio (authenticated). */
  audioPath: string;
}

/**
 * `X-Switchboard-Signature: sha256=<hex>` over `<timestamp>.<body>` with the customer's secret, and the
 * timestamp in `X-Switchboard-Timestamp` (seconds): the receiver recomputes it and refuses old timestamps,
 * so a captured request cannot be replayed later.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

const TIMEOUT_MS = 5_000;

/**
 * Tells the customer's webhook (if it set one) that a recording is ready: one POST of JSON, bounded by a
 * 5 s timeout, not retried; a failure is logged. Unsigned when the customer set no secret.
 */
export async function notifyRecordingReady(
  prisma: PrismaClient,
  sealingKey: () => Buffer,
  log: Logger,
  ready: RecordingReady,
): Promise<void> {
  const customer = await prisma.customer.findUnique({
    where: { id: ready.customerId },
    select: { recordingWebhookUrl: true, recordingWebhookSecretSealed: true },
  });
  const url = customer?.recordingWebhookUrl;
  if (!url) return;
  const body = JSON.stringify(ready);
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-switchboard-timestamp': String(timestamp),
  };
  try {
    if (customer.recordingWebhookSecretSealed) {
      const secret = unseal(
        sealingKey(),
        customer.recordingWebhookSecretSealed,
        recordingWebhookSecretContext(ready.customerId),
      );
      headers['x-switchboard-signature'] = signWebhook(secret, timestamp, body);
    }
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (!response.ok)
      log.warn({ status: response.status, recordingId: ready.recordingId }, 'recording webhook refused');
  } catch (error) {
    log.warn({ err: error, recordingId: ready.recordingId }, 'recording webhook failed');
  }
}
