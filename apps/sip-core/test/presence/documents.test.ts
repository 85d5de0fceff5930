import { describe, expect, it } from 'vitest';
import { DEFAULT_PRESENCE } from '../../src/config.ts';
import { dialogInfo, escapeXml, pidf } from '../../src/presence/documents.ts';
import { grantedSeconds, mayWatch, Refusal } from '../../src/presence/requests.ts';

describe('PIDF (RFC 3863)', () => {
  it('open with the on-the-phone activity while in a call', () => {
    const doc = pidf('sip:bob@example.test', { basic: 'open', onThePhone: true });
    expect(doc).toContain('entity="sip:bob@example.test"');
    expect(doc).toContain('<basic>open</basic>');
    expect(doc).toContain('<rpid:on-the-phone/>');
    expect(doc).toContain('<note>On the phone</note>');
  });

  it('closed without an activity', () => {
    const doc = pidf('sip:bob@example.test', { basic: 'closed', onThePhone: false });
    expect(doc).toContain('<basic>closed</basic>');
    expect(doc).not.toContain('on-the-phone');
  });

  it('escapes the entity URI in the attribute and the contact', () => {
    const doc = pidf('sip:a"<b>&\'c@example.test', { basic: 'open', onThePhone: false });
    expect(doc).toContain('entity="sip:a&quot;&lt;b&gt;&amp;&apos;c@example.test"');
    expect(doc).toContain('<contact>sip:a&quot;&lt;b&gt;&amp;&apos;c@example.test</contact>');
    expect(doc).not.toContain('<b>');
  });
});

describe('dialog-info (RFC 4235)', () => {
  it('full state with the version and one dialog per call', () => {
    const doc = dialogInfo('sip:bob@example.test', 3, [
      { id: 'c1', callId: 'c1', direction: 'recipient', state: 'early', remote: 'sip:alice@example.test' },
    ]);
    expect(doc).toMatch(/<dialog-info [^>]*version="3" state="full" entity="sip:bob@example.test">/);
    expect(doc).toContain('<dialog id="c1" call-id="c1" direction="recipient">');
    expect(doc).toContain('<state>early</state>');
    expect(doc).toContain('<remote><identity>sip:alice@example.test</identity>');
  });

  it('no dialogs: an empty document', () => {
    expect(dialogInfo('sip:bob@example.test', 0, [])).not.toContain('<dialog ');
  });

  it('escapes the entity, Call-ID and remote party', () => {
    const doc = dialogInfo('sip:x&y@example.test', 0, [
      {
        id: 'a"b',
        callId: 'a"b<',
        direction: 'initiator',
        state: 'confirmed',
        remote: 'sip:<evil>@example.test',
      },
    ]);
    expect(doc).toContain('entity="sip:x&amp;y@example.test"');
    expect(doc).toContain('id="a&quot;b" call-id="a&quot;b&lt;"');
    expect(doc).toContain('sip:&lt;evil&gt;@example.test');
    expect(doc).not.toContain('<evil>');
  });

  it('escapeXml leaves plain text alone', () => {
    expect(escapeXml('sip:bob@example.test')).toBe('sip:bob@example.test');
  });
});

describe('subscription rules', () => {
  const config = { ...DEFAULT_PRESENCE, minExpires: 60, maxExpires: 3600, defaultExpires: 1800 };

  it('grants the default, caps the maximum, keeps 0 and refuses too brief with Min-Expires (423)', () => {
    expect(grantedSeconds(undefined, config)).toBe(1800);
    expect(grantedSeconds('99999', config)).toBe(3600);
    expect(grantedSeconds('0', config)).toBe(0);
    const brief = (() => {
      try {
        grantedSeconds('10', config);
      } catch (error) {
        return error;
      }
    })();
    expect(brief).toBeInstanceOf(Refusal);
    expect(brief).toMatchObject({ status: 423, headers: { 'Min-Expires': '60' } });
    expect(() => grantedSeconds('soon', config)).toThrow(Refusal);
  });

  it('same customer only, unless watching across customers is allowed', () => {
    const watcher = { id: 'w', customerId: 'c1', aor: 'sip:w@example.test' };
    const other = { id: 'p', customerId: 'c2', aor: 'sip:p@example.test' };
    expect(mayWatch(watcher, { ...other, customerId: 'c1' }, { acrossCustomers: false })).toBe(true);
    expect(mayWatch(watcher, other, { acrossCustomers: false })).toBe(false);
    expect(mayWatch(watcher, other, { acrossCustomers: true })).toBe(true);
  });
});
