import { describe, expect, it } from 'vitest';
import { NumberingIndex } from '../src/numbering-index.ts';
import { PeerSourceTable } from '../src/peer-sources.ts';
import type { GatewayData, PeeringGroupData } from '../src/types.ts';
import { sampleData } from './fixtures.ts';

const groups: PeeringGroupData[] = [
  { id: 'g-a', name: 'carrier-a', priority: 1, enabled: true, rewriteRuleSetId: null },
  { id: 'g-off', name: 'off', priority: 1, enabled: false, rewriteRuleSetId: null },
];

function gateway(id: string, host: string, trustedSources: string[], extra: Partial<GatewayData> = {}) {
  return {
    id,
    groupId: 'g-a',
    name: id,
    host,
    port: 5060,
    transport: 'udp' as const,
    priority: 100,
    weight: 1,
    enabled: true,
    trustedSources,
    ...extra,
  };
}

describe('PeerSourceTable', () => {
  it('recognises a gateway by its IP-literal host and by each of its trusted sources', () => {
    const table = new PeerSourceTable(
      [gateway('gw1', '192.0.2.10', ['198.51.100.7', '203.0.113.0/24'])],
      groups,
    );
    expect(table.lookup('192.0.2.10')).toMatchObject({
      gatewayId: 'gw1',
      groupId: 'g-a',
      matched: '192.0.2.10',
    });
    expect(table.lookup('198.51.100.7')?.gatewayId).toBe('gw1');
    expect(table.lookup('203.0.113.200')).toMatchObject({ gatewayId: 'gw1', matched: '203.0.113.0/24' });
    expect(table.lookup('203.0.114.1')).toBeNull();
    expect(table.lookup('::ffff:198.51.100.7')?.gatewayId).toBe('gw1');
  });

  it('never resolves a host name, and ignores disabled gateways and gateways of disabled groups', () => {
    const table = new PeerSourceTable(
      [
        gateway('named', 'localhost', []),
        gateway('disabled', '192.0.2.1', ['192.0.2.2'], { enabled: false }),
        gateway('grouped-off', '192.0.2.3', [], { groupId: 'g-off' }),
      ],
      groups,
    );
    expect(table.size).toBe(0);
    expect(table.lookup('127.0.0.1')).toBeNull();
    expect(table.lookup('192.0.2.1')).toBeNull();
    expect(table.lookup('192.0.2.2')).toBeNull();
    expect(table.lookup('192.0.2.3')).toBeNull();
  });

  it('picks the most specific entry: an address before a block, a longer prefix before a shorter one', () => {
    const table = new PeerSourceTable(
      [
        gateway('wide', 'sip.example.net', ['10.0.0.0/8'], { priority: 1 }),
        gateway('narrow', 'sip.example.org', ['10.1.0.0/16'], { priority: 9 }),
        gateway('single', 'sip.example.com', ['10.1.2.3/32'], { priority: 50 }),
      ],
      groups,
    );
    expect(table.lookup('10.9.9.9')?.gatewayId).toBe('wide');
    expect(table.lookup('10.1.9.9')?.gatewayId).toBe('narrow');
    expect(table.lookup('10.1.2.3')).toMatchObject({ gatewayId: 'single', matched: '10.1.2.3' });
  });

  it('on equal specificity the lower gateway priority wins, whatever the row order', () => {
    const rows = [
      gateway('second', '192.0.2.50', [], { priority: 20 }),
      gateway('first', '192.0.2.60', ['192.0.2.50'], { priority: 10 }),
    ];
    expect(new PeerSourceTable(rows, groups).lookup('192.0.2.50')?.gatewayId).toBe('first');
    expect(new PeerSourceTable([...rows].reverse(), groups).lookup('192.0.2.50')?.gatewayId).toBe('first');
  });

  it('matches IPv6 whatever the spelling, and reports entries that are not addresses', () => {
    const table = new PeerSourceTable(
      [gateway('v6', '[2001:0db8::0001]', ['2001:db8:ff::/48', 'not-an-address', '192.0.2.0/33'])],
      groups,
    );
    expect(table.lookup('2001:db8::1')?.gatewayId).toBe('v6');
    expect(table.lookup('[2001:db8:ff:1::9]')?.gatewayId).toBe('v6');
    expect(table.lookup('2001:db8:fe::1')).toBeNull();
    expect(table.rejected).toEqual([
      { gatewayId: 'v6', entry: 'not-an-address' },
      { gatewayId: 'v6', entry: '192.0.2.0/33' },
    ]);
  });
});

describe('NumberingIndex.identifyPeer', () => {
  it('follows each new snapshot and lists bad trusted sources as load problems', () => {
    const data = sampleData();
    const index = new NumberingIndex(data);
    expect(index.identifyPeer('198.51.100.7')).toBeNull();
    const first = data.gateways[0];
    if (!first) throw new Error('fixture has no gateway');
    data.gateways[0] = { ...first, trustedSources: ['198.51.100.7', 'bogus'] };
    const problems = index.replace(data);
    expect(index.identifyPeer('198.51.100.7')).toMatchObject({ gatewayId: first.id, groupId: first.groupId });
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'peer-gateway', id: first.id }));
  });
});
