import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnumResponder, enumNameToNumber, numberToEnumName, parseEnumListen } from '../src/enum.ts';
import { NumberingIndex } from '../src/numbering-index.ts';
import type { NumberingService } from '../src/service.ts';
import { startNumberingService } from '../src/service.ts';
import { sampleData } from './fixtures.ts';

const run = promisify(execFile);

describe('numbering service on loopback', () => {
  let service: NumberingService;
  let base: string;
  let udpPort: number;
  let tcpPort: number;
  const index = new NumberingIndex(sampleData(), { rng: () => 0 });

  beforeAll(async () => {
    service = await startNumberingService({ port: 0, enumListen: 'udp:127.0.0.1:0,tcp:127.0.0.1:0', index });
    base = `http://127.0.0.1:${service.httpPort}`;
    udpPort = service.enumAddresses.find((address) => address.transport === 'udp')!.port;
    tcpPort = service.enumAddresses.find((address) => address.transport === 'tcp')!.port;
  });
  afterAll(async () => {
    await service?.close();
  });

  const dig = async (args: string[]) => {
    const { stdout } = await run('dig', ['@127.0.0.1', '+time=3', '+tries=2', ...args], { timeout: 20_000 });
    return stdout;
  };

  describe('ENUM answers checked with dig', () => {
    it('answers NAPTR E2U+sip over UDP', async () => {
      const answer = await dig(['-p', String(udpPort), '+short', 'NAPTR', '1.0.0.1.1.3.4.e164.arpa']);
      expect(answer.trim()).toBe('100 10 "u" "E2U+sip" "!^.*$!sip:bob@example.com!" .');
    });

    it('answers NAPTR over TCP', async () => {
      const answer = await dig([
        '-p',
        String(tcpPort),
        '+tcp',
        '+short',
        'NAPTR',
        numberToEnumName('+12125550100'),
      ]);
      expect(answer.trim()).toBe('100 10 "u" "E2U+sip" "!^.*$!sip:carol@example.us!" .');
    });

    it('answers NXDOMAIN for unknown numbers, with the zone SOA', async () => {
      const answer = await dig(['-p', String(udpPort), 'NAPTR', '9.9.9.1.1.3.4.e164.arpa']);
      expect(answer).toMatch(/status: NXDOMAIN/);
      expect(answer).toMatch(/flags: qr aa/);
      expect(answer).toMatch(/e164\.arpa\.\s+60\s+IN\s+SOA/);
      const overTcp = await dig(['-p', String(tcpPort), '+tcp', 'NAPTR', '9.9.9.1.1.3.4.e164.arpa']);
      expect(overTcp).toMatch(/status: NXDOMAIN/);
    });

    it('handles several TCP queries on one connection, split and coalesced arbitrarily', async () => {
      const frame = (id: number, name: string) => {
        const message = dnsPacket.encode({
          type: 'query',
          id,
          questions: [{ type: 'NAPTR', class: 'IN', name }],
        });
        const framed = Buffer.alloc(2 + message.length);
        framed.writeUInt16BE(message.length, 0);
        message.copy(framed, 2);
        return framed;
      };
      const bytes = Buffer.concat([
        frame(1, '1.0.0.1.1.3.4.e164.arpa'),
        frame(2, '9.9.9.1.1.3.4.e164.arpa'),
        frame(3, numberToEnumName('+12125550100')),
      ]);
      const socket = net.connect(tcpPort, '127.0.0.1');
      const answers: { id?: number; rcode?: string }[] = [];
      const done = new Promise<void>((resolve, reject) => {
        let buffered = Buffer.alloc(0);
        socket.on('error', reject);
        socket.on('data', (chunk) => {
          buffered = Buffer.concat([buffered, chunk]);
          while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
            const length = buffered.readUInt16BE(0);
            answers.push(
              dnsPacket.decode(buffered.subarray(2, 2 + length)) as { id?: number; rcode?: string },
            );
            buffered = buffered.subarray(2 + length);
          }
          if (answers.length === 3) resolve();
        });
      });
      // First byte alone (half a length prefix), then the rest of the first frame with the second's
      // start, then everything else.
      socket.write(bytes.subarray(0, 1));
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.write(bytes.subarray(1, 40));
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.write(bytes.subarray(40));
      await done;
      socket.destroy();
      expect(answers.map((answer) => [answer.id, answer.rcode])).toEqual([
        [1, 'NOERROR'],
        [2, 'NXDOMAIN'],
        [3, 'NOERROR'],
      ]);
    });

    it('refuses names outside e164.arpa', async () => {
      expect(await dig(['-p', String(udpPort), 'A', 'example.com'])).toMatch(/status: REFUSED/);
    });

    it('answers NODATA for other record types of a known number', async () => {
      const answer = await dig(['-p', String(udpPort), 'A', '1.0.0.1.1.3.4.e164.arpa']);
      expect(answer).toMatch(/status: NOERROR/);
      expect(answer).toMatch(/ANSWER: 0/);
    });
  });

  describe('HTTP lookup API', () => {
    const get = async (path: string) => {
      const response = await fetch(`${base}${path}`);
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        body: (await response.json()) as Record<string, unknown>,
      };
    };

    it('GET /v1/lookup maps a number to the URI', async () => {
      const { status, body } = await get('/v1/lookup?number=%2B4311001');
      expect(status).toBe(200);
      expect(body).toMatchObject({ uri: 'sip:bob@example.com', e164: '+4311001', isPrimary: true });
      expect((await get('/v1/lookup?domain=example.com&number=01%201002')).body.uri).toBe(
        'sip:bob@example.com',
      );
    });

    it('GET /v1/lookup: unknown number is a 404 problem, bad input a 400 problem', async () => {
      const unknown = await get('/v1/lookup?number=%2B4311999');
      expect(unknown.status).toBe(404);
      expect(unknown.type).toBe('application/problem+json');
      expect(unknown.body).toMatchObject({ status: 404, type: '/problems/not-found', title: 'Not found' });
      const bad = await get('/v1/lookup?number=bob');
      expect(bad.status).toBe(400);
      expect(bad.body.detail).toMatch(/E.164/);
      expect((await get('/v1/lookup')).status).toBe(400);
    });

    it('GET /v1/lcr returns gateways in failover order', async () => {
      const { status, body } = await get('/v1/lcr?callee=%2B4311001&caller=%2B4311003');
      expect(status).toBe(200);
      expect((body.gateways as { gatewayName: string }[]).map((g) => g.gatewayName)).toEqual([
        'c1',
        'c2',
        'b1',
      ]);
      const barred = await get('/v1/lcr?callee=%2B19005551234&subscriber=s-carol');
      expect(barred.status).toBe(403);
      expect(barred.body.type).toBe('/problems/blocked');
    });

    it('GET /v1/normalise classifies and normalises', async () => {
      expect((await get('/v1/normalise?domain=example.com&number=0660%201234567')).body).toMatchObject({
        kind: 'e164',
        e164: '+436601234567',
        via: 'national',
      });
      expect((await get('/v1/normalise?domain=example.com&number=112')).body).toMatchObject({
        kind: 'emergency',
      });
      const unknown = await get('/v1/normalise?domain=nowhere.test&number=1');
      expect(unknown.status).toBe(404);
      expect(unknown.body.type).toBe('/problems/unknown-domain');
    });

    it('GET /v1/present applies CLIR', async () => {
      expect((await get('/v1/present?uri=sip:alice@example.com')).body.presented).toBe('anonymous');
      expect((await get('/v1/present?uri=sip:bob@example.com')).body.presented).toBe('+4311001');
    });

    it('POST /v1/rewrite/test traces draft rules and rejects bad ones', async () => {
      const post = async (body: unknown) => {
        const response = await fetch(`${base}/v1/rewrite/test`, {
          method: 'POST',
          body: JSON.stringify(body),
        });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };
      const ok = await post({
        direction: 'inbound_from_peer',
        field: 'callee',
        value: '01234',
        rules: [{ matchPattern: '^0(\\d+)$', replacement: '43$1' }],
      });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ output: '431234', matchedRuleId: '1' });
      const bad = await post({
        direction: 'inbound_from_peer',
        field: 'callee',
        value: '1',
        rules: [{ matchPattern: '(1+)+', replacement: '' }],
      });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({
        type: '/problems/unsafe-regex',
        detail: expect.stringMatching(/nested quantifier/),
      });
      const stored = await post({
        direction: 'from_subscriber',
        field: 'callee',
        value: '1001',
        subscriberId: 's-bob',
      });
      expect(stored.body.output).toBe('4311001');
      const notJson = await fetch(`${base}/v1/rewrite/test`, { method: 'POST', body: '{' });
      expect(notJson.status).toBe(400);
    });

    it('refuses oversized bodies', async () => {
      const response = await fetch(`${base}/v1/rewrite/test`, { method: 'POST', body: 'x'.repeat(70_000) });
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    });

    it('answers 404 and 405 as problems', async () => {
      expect((await get('/v2/nothing')).status).toBe(404);
      const response = await fetch(`${base}/v1/lookup?number=1`, { method: 'DELETE' });
      expect(response.status).toBe(405);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    });
  });
});

describe('EnumResponder wire details', () => {
  const responder = new EnumResponder((digits) => (digits === '4311001' ? 'sip:bob@example.com' : null));
  const query = (name: string, type: 'NAPTR' | 'A' = 'NAPTR', id = 7) =>
    dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type, class: 'IN', name }],
    });

  it('echoes the id and RD, sets QR and AA', () => {
    const response = dnsPacket.decode(
      responder.answer(query('1.0.0.1.1.3.4.e164.arpa', 'NAPTR', 4242), 'udp')!,
    );
    expect(response).toMatchObject({
      id: 4242,
      flag_qr: true,
      flag_aa: true,
      flag_rd: true,
      rcode: 'NOERROR',
    });
    expect(response.answers?.[0]).toMatchObject({ type: 'NAPTR', name: '1.0.0.1.1.3.4.e164.arpa' });
  });

  it.each([
    ['x.1.3.4.e164.arpa', 'NXDOMAIN'],
    ['e164.arpa', 'NXDOMAIN'],
    ['12.3.4.e164.arpa', 'NXDOMAIN'],
    ['1.0.0.1.1.3.4.e164.org', 'REFUSED'],
  ])('%s -> %s', (name, rcode) => {
    expect((dnsPacket.decode(responder.answer(query(name), 'udp')!) as { rcode?: string }).rcode).toBe(rcode);
  });

  it('answers FORMERR to garbage with a header, and ignores runts and responses', () => {
    const garbage = Buffer.from([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
    const response = responder.answer(garbage, 'udp')!;
    expect(response.readUInt16BE(0)).toBe(9);
    expect(response.readUInt16BE(2) & 0xf).toBe(1);
    expect(responder.answer(Buffer.from([1, 2, 3]), 'udp')).toBeNull();
    const reply = dnsPacket.encode({
      type: 'response',
      id: 1,
      questions: [{ type: 'NAPTR', class: 'IN', name: 'e164.arpa' }],
    });
    expect(responder.answer(reply, 'udp')).toBeNull();
  });

  it('maps names and numbers both ways', () => {
    expect(enumNameToNumber('1.0.0.1.1.3.4.E164.ARPA.')).toBe('4311001');
    expect(enumNameToNumber('example.com')).toBeUndefined();
    expect(numberToEnumName('+4311001')).toBe('1.0.0.1.1.3.4.e164.arpa');
  });

  it('parses ENUM_LISTEN and rejects bad entries', () => {
    expect(parseEnumListen('udp:127.0.0.1:5300,tcp:[::1]:53')).toEqual([
      { transport: 'udp', host: '127.0.0.1', port: 5300 },
      { transport: 'tcp', host: '::1', port: 53 },
    ]);
    expect(() => parseEnumListen('sctp:127.0.0.1:53')).toThrow(/ENUM_LISTEN entry "sctp:127.0.0.1:53"/);
    expect(() => parseEnumListen('udp:127.0.0.1:70000')).toThrow(/ENUM_LISTEN/);
  });
});
