import { parseMessage, type SipRequest } from '@switchboard/sip';
import Srf from 'drachtio-srf';
import { describe, expect, it } from 'vitest';
import { parseRequest } from '../src/middleware/sanity.ts';
import { localRequestView } from '../src/sip/local-engine.ts';
import type { IncomingRequest } from '../src/sip/request.ts';
import { RequestView } from '../src/sip/request-view.ts';

/** The view of a request the engine in this process parsed, as sip-core's chains get it. */
function engineView(request: SipRequest): IncomingRequest {
  return localRequestView({
    request,
    source: { address: '192.0.2.10', port: 5060, transport: 'udp' },
    receivedOn: { host: '127.0.0.1', port: 5060 },
    respond: () => {},
    passOn: () => {},
  });
}

/** The packet facts of a view, to build a second view of the same request over other headers. */
function viewSource(view: IncomingRequest) {
  return {
    method: view.method,
    uri: view.uri,
    source_address: view.source_address,
    source_port: view.source_port,
    protocol: view.protocol,
  };
}

const REGISTER = [
  'REGISTER sip:example.test SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1',
  'f: <sip:alice@example.test>;tag=1',
  'To: <sip:alice@example.test>',
  'i: view-1',
  'CSeq: 1 REGISTER',
  'X-Custom-Thing: a',
  'Contact: <sip:alice@192.0.2.10:5060>',
  'Contact: <sip:alice@192.0.2.11:5060>',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('RequestView', () => {
  it('answers every lookup as drachtio-srf does, compact forms and repeated headers included', () => {
    // drachtio-srf's parser, as it runs on every request (its bundled typings omit SipMessage).
    const { SipMessage } = Srf as unknown as {
      SipMessage: new (
        raw: string,
      ) => { headers: Record<string, string>; get(name: string): string | undefined };
    };
    const message = new SipMessage(REGISTER);
    const srfLike = {
      method: 'REGISTER',
      uri: 'sip:example.test',
      source_address: '192.0.2.10',
      source_port: 5060,
      protocol: 'udp',
      receivedOn: '127.0.0.1:5060',
      headers: message.headers,
    };
    const view = new RequestView(srfLike);
    for (const name of [
      'From',
      'Call-ID',
      'call-id',
      'CSeq',
      'X-Custom-Thing',
      'x-custom-thing',
      'Contact',
      'Path',
    ])
      expect(view.get(name), name).toBe(message.get(name));
    expect(view.get('Call-ID')).toBe('view-1');
    expect(view.get('Contact')).toBe('<sip:alice@192.0.2.10:5060>,<sip:alice@192.0.2.11:5060>');
    expect(view.has('from')).toBe(true);
    expect(view.has('Path')).toBe(false);
    expect(view.receivedOn).toBe('127.0.0.1:5060');
  });

  it("built from the engine's parsed fields, answers as drachtio-srf's parse of the same text", () => {
    const { SipMessage } = Srf as unknown as {
      SipMessage: new (raw: string) => { get(name: string): string | undefined };
    };
    const message = new SipMessage(REGISTER);
    const view = engineView(parseMessage(Buffer.from(REGISTER)) as SipRequest);
    expect(view).toBeInstanceOf(RequestView);
    for (const name of ['From', 'Call-ID', 'CSeq', 'x-custom-thing', 'Contact', 'Path', 'Via'])
      expect(view.get(name), name).toBe(message.get(name));
    expect(view.uri).toBe('sip:example.test');
    expect((view as RequestView).headerEntries()).toContainEqual(['call-id', 'view-1']);
    expect((view as RequestView).headerEntries()).toContainEqual(['contact', message.get('Contact')]);
    expect((view as RequestView).headerEntries().map(([name]) => name)).toEqual([
      'via',
      'from',
      'to',
      'call-id',
      'cseq',
      'x-custom-thing',
      'contact',
      'content-length',
    ]);
    expect([view.has('contact'), view.has('F'), view.has('Path')]).toEqual([true, false, false]);
  });

  it("sanity reads the engine's parse of an in-process request, and the text once header rules changed it", () => {
    const engineParse = parseMessage(
      Buffer.from(REGISTER.replace('To: <sip:alice', 'To: "Zoë" <sip:alice')),
    ) as SipRequest;
    const view = engineView(engineParse);
    const fromEngine = parseRequest(view);
    // The engine's typed views themselves: nothing parsed a second time.
    expect(fromEngine.to).toBe(engineParse.to);
    expect(fromEngine.from).toBe(engineParse.from);
    expect(fromEngine.vias).toBe(engineParse.via);
    expect(fromEngine.to.displayName).toBe('Zoë');
    // The same values as the text path gives.
    const fromText = parseRequest(
      new RequestView({ ...viewSource(view), headers: new Map(view.headerEntries?.()) }),
    );
    expect(fromEngine.to.toString()).toBe(fromText.to.toString());
    expect(fromEngine.from.toString()).toBe(fromText.from.toString());
    expect(fromEngine.requestUri.toString()).toBe(fromText.requestUri.toString());
    expect(fromEngine.callId).toBe(fromText.callId);
    expect(fromEngine.cseq).toEqual(fromText.cseq);
    expect(fromEngine.vias.map(String)).toEqual(fromText.vias.map(String));
    // Header rules rewrote the headers: the engine's parse no longer describes them.
    view.replaceHeaders?.([
      ...(view.headerEntries?.() ?? []).filter(([name]) => name !== 'to'),
      ['To', '<sip:bob@example.test>'],
    ]);
    expect(view.message).toBeUndefined();
    expect(parseRequest(view).to.uri.toString()).toBe('sip:bob@example.test');
  });

  it("refuses from the engine's parse a request that used up its hops", () => {
    const hopsUsed = parseMessage(
      Buffer.from(REGISTER.replace('CSeq: 1 REGISTER', 'CSeq: 1 REGISTER\r\nMax-Forwards: 0')),
    ) as SipRequest;
    const view = engineView(hopsUsed);
    expect(() => parseRequest(view)).toThrow('Too Many Hops');
  });

  it('header rules replace the headers of a view, never the index it was built on', () => {
    const index = new Map([['call-id', 'view-1']]);
    const view = new RequestView({
      method: 'REGISTER',
      uri: 'sip:example.test',
      source_address: '192.0.2.10',
      source_port: 5060,
      protocol: 'udp',
      headers: index,
    });
    expect(view.get('Call-ID')).toBe('view-1');
    view.replaceHeaders([['Call-ID', 'other']]);
    expect(view.get('call-id')).toBe('other');
    expect(view.headerEntries()).toEqual([['Call-ID', 'other']]);
    expect(index.get('call-id')).toBe('view-1');
  });
});
