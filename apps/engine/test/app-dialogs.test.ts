import { describe, expect, it } from 'vitest';
import type { AppConnection } from '../src/admin/app-connection.ts';
import { type AppDialog, appDialogId, findAppDialog, forgetAppDialogId } from '../src/bridge/app-dialogs.ts';
import type { BridgeUserAgent } from '../src/bridge/bridge-core.ts';

/** A dialog as the UA core keeps it, with only what the naming reads. */
function dialog(role: 'uac' | 'uas', localTag: string, remoteTag: string, owner: object): AppDialog {
  return {
    id: { callId: 'spiral-1', localTag, remoteTag },
    role,
    state: 'confirmed',
    data: { owner: owner as AppConnection },
  } as unknown as AppDialog;
}

function uaOf(dialogs: AppDialog[]): BridgeUserAgent {
  return {
    dialogs: { withCallId: (callId: string) => dialogs.filter((d) => d.id.callId === callId) },
  } as never;
}

describe('drachtio dialog names (app-dialogs.ts)', () => {
  it('names a dialog by Call-ID and the UAC From tag, as drachtio does', () => {
    const app = {};
    const sent = dialog('uac', 'f1', 't1', app);
    expect(appDialogId(sent)).toBe('spiral-1;from-tag=f1');
    expect(findAppDialog(uaOf([sent]), 'spiral-1;from-tag=f1')).toBe(sent);
  });

  it('tells apart a call we sent and the same call a proxy sent back to us (a spiral)', () => {
    const app = {};
    // The proxy keeps Call-ID and From tag: the dialog we answered has our UAC dialog's tags swapped.
    const answered = dialog('uas', 't2', 'f2', app);
    const sent = dialog('uac', 'f2', 't2', app);
    const ua = uaOf([answered, sent]);
    expect(appDialogId(answered)).toBe('spiral-1;from-tag=f2');
    expect(appDialogId(sent)).toBe('spiral-1;from-tag=f2;uac');
    expect(findAppDialog(ua, 'spiral-1;from-tag=f2')).toBe(answered);
    expect(findAppDialog(ua, 'spiral-1;from-tag=f2;uac')).toBe(sent);
    // The name stays while the dialog lives, and is free again once it ended.
    forgetAppDialogId(answered);
    expect(appDialogId(sent)).toBe('spiral-1;from-tag=f2;uac');
    const later = dialog('uac', 'f2', 't3', app);
    expect(appDialogId(later)).toBe('spiral-1;from-tag=f2');
  });

  it('names dialogs of different apps each as drachtio does (their names never meet in one app)', () => {
    const first = dialog('uac', 'f3', 't3', {});
    const second = dialog('uas', 't3', 'f3', {});
    expect(appDialogId(first)).toBe('spiral-1;from-tag=f3');
    expect(appDialogId(second)).toBe('spiral-1;from-tag=f3');
  });
});
