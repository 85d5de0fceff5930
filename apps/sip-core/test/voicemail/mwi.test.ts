import { describe, expect, it } from 'vitest';
import { messageSummary } from '../../src/presence/documents.ts';
import { eventPackageOf, mayWatchEvent, Refusal } from '../../src/presence/requests.ts';

/** message-summary (RFC 3842) documents and who may subscribe to a box. */

const alice = { id: 'a', customerId: 'c1', aor: 'sip:alice@example.test' };
const colleague = { id: 'b', customerId: 'c1', aor: 'sip:bob@example.test' };

describe('message-summary', () => {
  it('says yes with new messages and counts new/old (RFC 3842 §5.2)', () => {
    expect(messageSummary(alice.aor, { newMessages: 2, oldMessages: 1 })).toBe(
      'Messages-Waiting: yes\r\nMessage-Account: sip:alice@example.test\r\nVoice-Message: 2/1\r\n',
    );
    expect(messageSummary(alice.aor, { newMessages: 0, oldMessages: 3 })).toContain(
      'Messages-Waiting: no\r\n',
    );
  });

  it('is a known event package; only the box owner may watch it, even within the customer', () => {
    expect(eventPackageOf(() => 'message-summary')).toBe('message-summary');
    expect(() => eventPackageOf(() => 'message-summery')).toThrow(Refusal);
    expect(mayWatchEvent('message-summary', alice, alice, { acrossCustomers: true })).toBe(true);
    expect(mayWatchEvent('message-summary', colleague, alice, { acrossCustomers: true })).toBe(false);
    expect(mayWatchEvent('presence', colleague, alice, { acrossCustomers: false })).toBe(true);
  });
});
