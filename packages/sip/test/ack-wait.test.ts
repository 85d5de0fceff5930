import { describe, expect, it } from 'vitest';
import type { Dialog } from '../src/dialogs/index.ts';
import { AckWaits } from '../src/user-agent-core/ack-wait.ts';

/** Dialogs are only identities here. */
const dialog = (name: string) => ({ name }) as unknown as Dialog<string>;

describe('AckWaits (RFC 3261 §13.3.1.4)', () => {
  it('settles only the dialog the ACK names, however many wait', () => {
    const waits = new AckWaits<string, string>();
    const dialogs = Array.from({ length: 1000 }, (_, i) => dialog(`d${i}`));
    for (const [i, d] of dialogs.entries()) waits.wait(`invite${i}`, d);
    const [first, acknowledged, next] = [dialogs[0], dialogs[500], dialogs[501]] as [
      Dialog<string>,
      Dialog<string>,
      Dialog<string>,
    ];
    expect(waits.acknowledge(acknowledged)).toBe(true);
    expect(waits.acknowledge(acknowledged)).toBe(false);
    expect(waits.size).toBe(999);
    expect(waits.timeout('invite500')).toBeUndefined();
    expect(waits.timeout('invite501')).toBe(next);
    expect(waits.drop(first)).toBe(true);
    expect(waits.drop(first)).toBe(false);
    expect(waits.size).toBe(997);
  });

  it('settles a dialog’s waits oldest first: the initial 2xx, then a re-INVITE’s', () => {
    const waits = new AckWaits<string, string>();
    const d = dialog('d');
    waits.wait('initial', d);
    waits.wait('reinvite', d);
    expect(waits.acknowledge(d)).toBe(true);
    expect(waits.timeout('initial')).toBeUndefined();
    expect(waits.timeout('reinvite')).toBe(d);
    expect(waits.acknowledge(d)).toBe(false);
    expect(waits.size).toBe(0);
  });

  it('forgets a timed-out wait in the dialog too, so the next ACK finds the later one', () => {
    const waits = new AckWaits<string, string>();
    const d = dialog('d');
    waits.wait('initial', d);
    waits.wait('reinvite', d);
    expect(waits.timeout('initial')).toBe(d);
    expect(waits.acknowledge(d)).toBe(true);
    expect(waits.size).toBe(0);
  });
});
