import type Srf from 'drachtio-srf';
import { afterEach, describe, expect, it } from 'vitest';
import { endDialog } from '../../src/calls/srf-dialog.ts';

/** A dialog whose BYE cannot be sent: drachtio-srf rejects once the engine connection is gone. */
function dialogOnLostEngine(): { dialog: Srf.Dialog; calls: number } {
  const state = { calls: 0, dialog: undefined as unknown as Srf.Dialog };
  state.dialog = {
    destroy: () => {
      state.calls += 1;
      return Promise.reject(Object.assign(new Error('socket destroyed'), { code: 'ESOCKETDESTROYED' }));
    },
  } as unknown as Srf.Dialog;
  return state;
}

describe('endDialog', () => {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown) => seen.push(reason);
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
    seen.length = 0;
  });

  it('sends the BYE and swallows the rejection of a dialog whose engine is gone', async () => {
    process.on('unhandledRejection', onUnhandled);
    const lost = dialogOnLostEngine();
    endDialog(lost.dialog);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lost.calls).toBe(1);
    expect(seen).toEqual([]);
  });

  it('does nothing without a dialog', () => {
    expect(() => endDialog(undefined)).not.toThrow();
  });
});
