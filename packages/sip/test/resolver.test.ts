import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderSrv, SipResolver } from '../src/resolver/index.ts';
import { startDnsServer } from './helpers/dns.ts';

type Answer = dnsPacket.Answer;
const zone: Answer[] = [
  // example.test: NAPTR prefers TCP over UDP; TLS is offered too.
  {
    type: 'NAPTR',
    name: 'example.test',
    ttl: 60,
    data: {
      order: 10,
      preference: 20,
      flags: 's',
      services: 'SIP+D2U',
      regexp: '',
      replacement: '_sip._udp.example.test',
    },
  },
  {
    type: 'NAPTR',
    name: 'example.test',
    ttl: 60,
    data: {
      order: 10,
      preference: 10,
      flags: 's',
      services: 'SIP+D2T',
      regexp: '',
      replacement: '_sip._tcp.example.test',
    },
  },
  {
    type: 'NAPTR',
    name: 'example.test',
    ttl: 60,
    data: {
      order: 5,
      preference: 10,
      flags: 's',
      services: 'SIPS+D2T',
      regexp: '',
      replacement: '_sips._tcp.example.test',
    },
  },
  {
    type: 'SRV',
    name: '_sip._tcp.example.test',
    ttl: 60,
    data: { priority: 10, weight: 0, port: 5070, target: 'b.example.test' },
  },
  {
    type: 'SRV',
    name: '_sip._tcp.example.test',
    ttl: 60,
    data: { priority: 5, weight: 0, port: 5080, target: 'a.example.test' },
  },
  {
    type: 'SRV',
    name: '_sip._udp.example.test',
    ttl: 60,
    data: { priority: 1, weight: 0, port: 5060, target: 'a.example.test' },
  },
  {
    type: 'SRV',
    name: '_sips._tcp.example.test',
    ttl: 60,
    data: { priority: 1, weight: 0, port: 5061, target: 'a.example.test' },
  },
  { type: 'A', name: 'a.example.test', ttl: 60, data: '127.0.0.11' },
  { type: 'AAAA', name: 'a.example.test', ttl: 60, data: '::1' },
  { type: 'A', name: 'b.example.test', ttl: 60, data: '127.0.0.12' },
  // srvonly.test: no NAPTR, SRV for UDP only.
  {
    type: 'SRV',
    name: '_sip._udp.srvonly.test',
    ttl: 60,
    data: { priority: 1, weight: 0, port: 5999, target: 'b.example.test' },
  },
  // plain.test: only an A record.
  { type: 'A', name: 'plain.test', ttl: 60, data: '127.0.0.13' },
];

let dns: Awaited<ReturnType<typeof startDnsServer>>;
let dnsAddress: string;
let queries: string[];

beforeAll(async () => {
  dns = await startDnsServer(zone);
  dnsAddress = dns.address;
  queries = dns.queries;
});

afterAll(() => dns.close());

describe('SipResolver (RFC 3263)', () => {
  const resolver = () =>
    new SipResolver({ servers: [dnsAddress], timeoutMs: 1_000, tries: 1, random: () => 0 });

  it('numeric IPs skip DNS and use the default port and transport', async () => {
    const before = queries.length;
    expect(await resolver().resolve({ host: '127.0.0.5' })).toEqual([
      { transport: 'udp', address: '127.0.0.5', port: 5060, serverName: '127.0.0.5' },
    ]);
    expect(await resolver().resolve({ host: '[::1]', secure: true })).toEqual([
      { transport: 'tls', address: '::1', port: 5061, serverName: '::1' },
    ]);
    expect(await resolver().resolve({ host: '127.0.0.5', port: 7000, transport: 'tcp' })).toEqual([
      { transport: 'tcp', address: '127.0.0.5', port: 7000, serverName: '127.0.0.5' },
    ]);
    expect(queries.length).toBe(before);
  });

  it('follows NAPTR order/preference, then SRV priority, then A and AAAA', async () => {
    const targets = await resolver().resolve({ host: 'example.test' });
    expect(targets.map((t) => `${t.transport}:${t.address}:${t.port}`)).toEqual([
      'tls:127.0.0.11:5061',
      'tls:::1:5061',
      'tcp:127.0.0.11:5080',
      'tcp:::1:5080',
      'tcp:127.0.0.12:5070',
      'udp:127.0.0.11:5060',
      'udp:::1:5060',
    ]);
    expect(targets.every((t) => t.serverName === 'example.test')).toBe(true);
  });

  it('a sips URI only gets TLS targets', async () => {
    const targets = await resolver().resolve({ host: 'example.test', secure: true });
    expect(new Set(targets.map((t) => t.transport))).toEqual(new Set(['tls']));
  });

  it('restricts NAPTR to the transports we support', async () => {
    const r = new SipResolver({ servers: [dnsAddress], transports: ['udp'], timeoutMs: 1_000, tries: 1 });
    const targets = await r.resolve({ host: 'example.test' });
    expect(targets.map((t) => t.transport)).toEqual(['udp', 'udp']);
  });

  it('an explicit port means A/AAAA only', async () => {
    const before = queries.length;
    const targets = await resolver().resolve({ host: 'b.example.test', port: 6000 });
    expect(targets).toEqual([
      { transport: 'udp', address: '127.0.0.12', port: 6000, serverName: 'b.example.test' },
    ]);
    expect(queries.slice(before).some((q) => q.startsWith('SRV') || q.startsWith('NAPTR'))).toBe(false);
  });

  it('an explicit transport skips NAPTR and uses that transport’s SRV', async () => {
    const targets = await resolver().resolve({ host: 'example.test', transport: 'udp' });
    expect(targets.map((t) => `${t.transport}:${t.address}:${t.port}`)).toEqual([
      'udp:127.0.0.11:5060',
      'udp:::1:5060',
    ]);
  });

  it('without NAPTR queries SRV per transport; without SRV falls back to A on the default port', async () => {
    expect(await resolver().resolve({ host: 'srvonly.test' })).toEqual([
      { transport: 'udp', address: '127.0.0.12', port: 5999, serverName: 'srvonly.test' },
    ]);
    expect(await resolver().resolve({ host: 'plain.test' })).toEqual([
      { transport: 'udp', address: '127.0.0.13', port: 5060, serverName: 'plain.test' },
    ]);
    expect(await resolver().resolve({ host: 'nothing.test' })).toEqual([]);
  });

  it('after NAPTR, SRV and A/AAAA found nothing, takes the address from the host table (/etc/hosts)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hosts-'));
    const hostsFile = join(dir, 'hosts');
    writeFileSync(
      hostsFile,
      '# test table\n127.0.0.1 localhost\n127.29.0.13\tsipp-uas  sipp-uas.local # uas\n',
    );
    try {
      const r = new SipResolver({ servers: [dnsAddress], timeoutMs: 1_000, tries: 1, hostsFile });
      const before = queries.length;
      expect(await r.resolve({ host: 'sipp-uas' })).toEqual([
        { transport: 'udp', address: '127.29.0.13', port: 5060, serverName: 'sipp-uas' },
      ]);
      // RFC 3263 still ran first: the table is the fallback, not a shortcut.
      expect(queries.slice(before).some((q) => q.startsWith('NAPTR'))).toBe(true);
      expect(await r.resolve({ host: 'SIPP-UAS.local', port: 5080, transport: 'tcp' })).toEqual([
        { transport: 'tcp', address: '127.29.0.13', port: 5080, serverName: 'sipp-uas.local' },
      ]);
      // DNS answers win over the table; a name in neither resolves to nothing.
      expect((await r.resolve({ host: 'plain.test' }))[0]?.address).toBe('127.0.0.13');
      expect(await r.resolve({ host: 'elsewhere.test' })).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unknown transport parameter and a sips URI with transport=udp', async () => {
    expect(await resolver().resolve({ host: '127.0.0.1', transport: 'sctp' })).toEqual([]);
    expect(await resolver().resolve({ host: '127.0.0.1', transport: 'udp', secure: true })).toEqual([]);
  });
});

describe('orderSrv (RFC 2782)', () => {
  const recs = [
    { name: 'a', port: 1, priority: 2, weight: 10 },
    { name: 'b', port: 1, priority: 1, weight: 0 },
    { name: 'c', port: 1, priority: 2, weight: 90 },
  ];
  it('sorts by priority and selects by weight', () => {
    expect(orderSrv(recs, () => 0).map((r) => r.name)).toEqual(['b', 'a', 'c']);
    expect(orderSrv(recs, () => 0.99).map((r) => r.name)).toEqual(['b', 'c', 'a']);
  });
});
