import type { Logger } from 'pino';
import type { Binding } from '../location/binding.ts';
import { type MailboxCounts, messageSummary } from '../presence/documents.ts';
import { requestFinal, type SrfRequester } from '../sip/srf-request.ts';

export interface UnsolicitedMwiDeps {
  srf: SrfRequester;
  /** Whether the subscriber's box asks for unsolicited NOTIFYs (`voicemail_boxes.unsolicited_mwi`). */
  wanted(subscriberId: string): Promise<boolean>;
  /** The subscriber's address of record, if known. */
  aorOf(subscriberId: string): string | undefined;
  bindings(aor: string): readonly Binding[];
  /** `address:port` of the devices that subscribed to the box themselves. */
  subscribedFrom(subscriberId: string): Set<string>;
  counts(subscriberId: string): MailboxCounts;
  /** This node's name: only the devices whose connection it holds are sent to. */
  node: string;
  log: Logger;
}

const TIMEOUT_MS = 10_000;

/**
 * Unsolicited message waiting indication: many desk phones never SUBSCRIBE to `message-summary` and expect
 * a NOTIFY out of any dialog whenever their box changes (the practice RFC 3842 §3 leaves open; the body is
 * its `application/simple-message-summary`). For a box with `unsolicitedMwi`, every registered device of
 * its owner that did not subscribe from the same address gets one, sent to where its REGISTER came from.
 * A device that does not answer is logged and tried again at the next change.
 */
export class UnsolicitedMwi {
  constructor(private readonly deps: UnsolicitedMwiDeps) {}

  async changed(subscriberId: string): Promise<void> {
    const aor = this.deps.aorOf(subscriberId);
    if (!aor || !(await this.deps.wanted(subscriberId))) return;
    const subscribed = this.deps.subscribedFrom(subscriberId);
    const body = messageSummary(aor, this.deps.counts(subscriberId));
    const targets = this.deps
      .bindings(aor)
      .filter((b) => b.node === this.deps.node && !subscribed.has(`${b.receivedAddress}:${b.receivedPort}`));
    await Promise.all(targets.map((binding) => this.send(aor, binding, body)));
  }

  private async send(aor: string, binding: Binding, body: string): Promise<void> {
    const host = binding.receivedAddress.includes(':')
      ? `[${binding.receivedAddress}]`
      : binding.receivedAddress;
    const transport = binding.transport === 'wss' ? 'wss' : binding.transport;
    try {
      const res = await requestFinal(
        this.deps.srf,
        binding.contactUri,
        {
          method: 'NOTIFY',
          proxy: `sip:${host}:${binding.receivedPort};transport=${transport}`,
          headers: {
            From: `<${aor}>`,
            To: `<${aor}>`,
            Event: 'message-summary',
            // No subscription exists; the phones that take these accept `active` (or ignore it).
            'Subscription-State': 'active',
            'Content-Type': 'application/simple-message-summary',
            'Max-Forwards': '70',
          },
          body,
        },
        TIMEOUT_MS,
        'no answer to the unsolicited NOTIFY',
      );
      this.deps.log.info({ aor, contact: binding.contactUri, status: res.status }, 'unsolicited MWI sent');
    } catch (error) {
      this.deps.log.warn({ err: error, aor, contact: binding.contactUri }, 'unsolicited MWI failed');
    }
  }
}
