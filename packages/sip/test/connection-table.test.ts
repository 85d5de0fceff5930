import { describe, expect, it } from 'vitest';
import type { StreamConnection } from '../src/transport/connection.ts';
import { ConnectionTable } from '../src/transport/connection-table.ts';

/** The fields the table reads of a connection. */
function connection(id: string, remoteAddress: string, remotePort: number): StreamConnection {
  return { id, transport: 'tcp', remoteAddress, remotePort, closed: false } as unknown as StreamConnection;
}

describe('ConnectionTable', () => {
  it('forgets a closed connection’s own flow and its aliases, and nothing else', () => {
    const table = new ConnectionTable();
    const a = connection('a', '192.0.2.1', 40000);
    const b = connection('b', '192.0.2.2', 40001);
    table.add(a);
    table.add(b);
    table.alias(a, '192.0.2.1', 5060);
    expect(table.find('tcp', '192.0.2.1', 5060)).toBe(a);
    table.remove(a);
    expect(table.find('tcp', '192.0.2.1', 40000)).toBeUndefined();
    expect(table.find('tcp', '192.0.2.1', 5060)).toBeUndefined();
    expect(table.find('tcp', '192.0.2.2', 40001)).toBe(b);
    expect(table.size).toBe(1);
    expect(table.countFor('192.0.2.1')).toBe(0);
  });

  it('keeps an alias another connection took over when the first one closes', () => {
    const table = new ConnectionTable();
    const first = connection('first', '192.0.2.1', 40000);
    const second = connection('second', '192.0.2.1', 40002);
    table.add(first);
    table.alias(first, '192.0.2.1', 5060);
    table.add(second);
    // The peer reconnected and names the same listening port from its new connection (RFC 5923).
    table.alias(second, '192.0.2.1', 5060);
    table.remove(first);
    expect(table.find('tcp', '192.0.2.1', 5060)).toBe(second);
    table.remove(second);
    expect(table.find('tcp', '192.0.2.1', 5060)).toBeUndefined();
    expect(table.size).toBe(0);
  });
});
