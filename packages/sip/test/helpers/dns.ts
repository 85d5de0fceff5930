import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';

/** A tiny authoritative DNS responder on loopback serving a fixed zone (NXDOMAIN for unknown names). */
export async function startDnsServer(zone: dnsPacket.Answer[]) {
  const server = dgram.createSocket('udp4');
  const queries: string[] = [];
  server.on('message', (msg, rinfo) => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const q = query.questions?.[0];
    if (!q) return;
    queries.push(`${q.type} ${q.name}`);
    const name = q.name.toLowerCase();
    const answers = zone.filter((a) => a.type === q.type && a.name.toLowerCase() === name);
    const exists = zone.some((a) => a.name.toLowerCase() === name);
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (exists ? 0 : 3), // rcode 3 = NXDOMAIN
      questions: [q],
      answers,
    });
    server.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    queries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
