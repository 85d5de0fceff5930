import { SetIndex } from '../collections/set-index.ts';
import type { StreamConnection } from './connection.ts';
import { normalizeAddress, type TransportProtocol } from './types.ts';

function flowKey(transport: TransportProtocol, address: string, port: number): string {
  return `${transport}|${normalizeAddress(address)}|${port}`;
}

/**
 * Open stream connections, found by id or by (transport, remote address, remote port) so that a message
 * to a peer reuses the connection that peer opened (RFC 3261 §18.2.2, §18.1.1; RFC 5923 aliases).
 */
export class ConnectionTable {
  private readonly byId = new Map<string, StreamConnection>();
  private readonly byFlow = new Map<string, StreamConnection>();
  /** The flow keys that name each connection (its own and its aliases), so closing one scans nothing. */
  private readonly flowsOf = new SetIndex<string, string>();
  private readonly perIp = new Map<string, number>();

  get size(): number {
    return this.byId.size;
  }

  add(conn: StreamConnection): void {
    this.byId.set(conn.id, conn);
    this.bindFlow(flowKey(conn.transport, conn.remoteAddress, conn.remotePort), conn);
    this.perIp.set(conn.remoteAddress, (this.perIp.get(conn.remoteAddress) ?? 0) + 1);
  }

  remove(conn: StreamConnection): void {
    if (this.byId.get(conn.id) !== conn) return;
    this.byId.delete(conn.id);
    for (const key of this.flowsOf.deleteKey(conn.id) ?? []) this.byFlow.delete(key);
    const n = (this.perIp.get(conn.remoteAddress) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(conn.remoteAddress);
    else this.perIp.set(conn.remoteAddress, n);
  }

  /**
   * RFC 5923-style alias: the peer's advertised sent-by (from Via) maps to this connection, so requests
   * towards its listening port reuse the connection it opened.
   */
  alias(conn: StreamConnection, address: string, port: number): void {
    if (!this.byId.has(conn.id)) return;
    this.bindFlow(flowKey(conn.transport, address, port), conn);
  }

  /** The flow key names this connection now; the connection it named before no longer owns it. */
  private bindFlow(key: string, conn: StreamConnection): void {
    const before = this.byFlow.get(key);
    if (before !== undefined && before !== conn) this.flowsOf.delete(before.id, key);
    this.byFlow.set(key, conn);
    this.flowsOf.add(conn.id, key);
  }

  get(id: string): StreamConnection | undefined {
    return this.byId.get(id);
  }

  find(transport: TransportProtocol, address: string, port: number): StreamConnection | undefined {
    const conn = this.byFlow.get(flowKey(transport, address, port));
    return conn && !conn.closed ? conn : undefined;
  }

  countFor(address: string): number {
    return this.perIp.get(normalizeAddress(address)) ?? 0;
  }

  all(): StreamConnection[] {
    return [...this.byId.values()];
  }
}
