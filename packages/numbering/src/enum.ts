import dgram from 'node:dgram';
import net from 'node:net';
import type { Answer, DecodedPacket, Packet } from 'dns-packet';
import dnsPacket from 'dns-packet';
import type { Logger } from 'pino';

/** Resolves E.164 digits (no `+`) to the SIP URI published for them, or null. */
export type EnumLookup = (digits: string) => string | null;

export interface EnumListenAddress {
  transport: 'udp' | 'tcp';
  host: string;
  port: number;
}

// RFC 1035 4.1.1 response codes.
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const OPCODE_QUERY = 0;
/** RFC 1035 4.2.1: a UDP message without EDNS is at most 512 bytes; longer answers are truncated (TC). */
const UDP_LIMIT = 512;
const TCP_IDLE_MS = 10_000;
const TCP_MAX_CONNECTIONS = 256;
/** How long (s) resolvers may cache answers and, via the SOA minimum, negative answers (RFC 2308). */
const TTL = 60;

/**
 * Parses `ENUM_LISTEN`: comma-separated `udp:host:port` / `tcp:host:port`, IPv6 hosts in brackets.
 * Throws on anything else, naming the bad entry.
 */
export function parseEnumListen(spec: string): EnumListenAddress[] {
  return spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(udp|tcp):(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(entry);
      const port = match ? Number(match[3]) : Number.NaN;
      if (!match || port > 65535) {
        throw new Error(`ENUM_LISTEN entry "${entry}" is not udp:host:port or tcp:host:port`);
      }
      return { transport: match[1] as 'udp' | 'tcp', host: match[2]!.replace(/^\[|\]$/g, ''), port };
    });
}

/**
 * The E.164 number of an ENUM domain name (RFC 6116 section 2.4): `1.0.0.1.1.3.4.e164.arpa` -> `4311001`.
 * Null when the name is under the zone but is not a digit-per-label name; undefined when outside the zone.
 */
export function enumNameToNumber(name: string, zone = 'e164.arpa'): string | null | undefined {
  const lower = name.toLowerCase().replace(/\.$/, '');
  if (lower !== zone && !lower.endsWith(`.${zone}`)) return undefined;
  const labels = lower === zone ? [] : lower.slice(0, -(zone.length + 1)).split('.');
  if (labels.length === 0 || labels.length > 15 || !labels.every((label) => /^\d$/.test(label))) return null;
  return labels.reverse().join('');
}

/** The ENUM domain name of an E.164 number (`+4311001` -> `1.0.0.1.1.3.4.e164.arpa`). */
export function numberToEnumName(number: string, zone = 'e164.arpa'): string {
  return `${[...number.replace(/^\+/, '')].reverse().join('.')}.${zone}`;
}

/** The NAPTR regexp field: replace the whole AUS with the URI, delimiter chosen outside the URI. */
function naptrRegexp(uri: string): string {
  const delimiter = ['!', '|', '#', '%'].find((candidate) => !uri.includes(candidate)) ?? '!';
  return `${delimiter}^.*$${delimiter}${uri}${delimiter}`;
}

/**
 * Answers one DNS message for the ENUM zone. Pure: bytes in, bytes out (null: send nothing), so it can be
 * tested without sockets. Known number -> NAPTR `E2U+sip` (RFC 6116 section 3.4.3); unknown number
 * -> NXDOMAIN with the zone SOA for negative caching; names outside the zone -> REFUSED.
 */
export class EnumResponder {
  constructor(
    private readonly lookup: EnumLookup,
    private readonly zone = 'e164.arpa',
  ) {}

  answer(message: Buffer, transport: 'udp' | 'tcp'): Buffer | null {
    if (message.length < 12) return null; // not even a header: nobody to answer
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(message) as DecodedPacket;
    } catch {
      return this.bareError(message, RCODE.FORMERR);
    }
    if (query.flag_qr) return null; // a response, not a query: never answer (avoids reflection loops)
    const opcode = (message.readUInt16BE(2) >> 11) & 0xf;
    if (opcode !== OPCODE_QUERY) return this.bareError(message, RCODE.NOTIMP);
    const questions = query.questions ?? [];
    if (questions.length !== 1) return this.reply(query, RCODE.FORMERR, [], [], transport);
    const question = questions[0]!;
    if (question.class !== 'IN' && question.class !== 'ANY')
      return this.reply(query, RCODE.REFUSED, [], [], transport);
    const digits = enumNameToNumber(question.name, this.zone);
    if (digits === undefined) return this.reply(query, RCODE.REFUSED, [], [], transport);
    const uri = digits === null ? null : this.lookup(digits);
    if (uri === null) return this.reply(query, RCODE.NXDOMAIN, [], [this.soa()], transport);
    if (question.type !== 'NAPTR' && (question.type as string) !== 'ANY') {
      return this.reply(query, RCODE.NOERROR, [], [this.soa()], transport); // NODATA (RFC 2308 2.2)
    }
    const naptr: Answer = {
      type: 'NAPTR',
      class: 'IN',
      name: question.name,
      ttl: TTL,
      data: {
        order: 100,
        preference: 10,
        flags: 'u',
        services: 'E2U+sip',
        regexp: naptrRegexp(uri),
        replacement: '.',
      },
    };
    return this.reply(query, RCODE.NOERROR, [naptr], [], transport);
  }

  private soa(): Answer {
    return {
      type: 'SOA',
      class: 'IN',
      name: this.zone,
      ttl: TTL,
      data: {
        mname: `ns.${this.zone}`,
        rname: `hostmaster.${this.zone}`,
        serial: 1,
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: TTL,
      },
    };
  }

  private reply(
    query: DecodedPacket,
    rcode: number,
    answers: Answer[],
    authorities: Answer[],
    transport: 'udp' | 'tcp',
  ) {
    const flags = dnsPacket.AUTHORITATIVE_ANSWER | (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) | rcode;
    const response: Packet = {
      type: 'response',
      id: query.id ?? 0,
      flags,
      questions: query.questions ?? [],
      answers,
      authorities,
      additionals: [],
    };
    const encoded = dnsPacket.encode(response);
    if (transport === 'udp' && encoded.length > UDP_LIMIT) {
      // RFC 2181 9: set TC and let the resolver retry over TCP.
      return dnsPacket.encode({
        ...response,
        flags: flags | dnsPacket.TRUNCATED_RESPONSE,
        answers: [],
        authorities: [],
      });
    }
    return encoded;
  }

  /** An error for a message whose body could not be parsed: the header alone, id and opcode kept. */
  private bareError(message: Buffer, rcode: number): Buffer {
    const header = Buffer.alloc(12);
    header.writeUInt16BE(message.readUInt16BE(0), 0);
    const requestFlags = message.readUInt16BE(2);
    // QR=1, opcode and RD copied from the request, rcode set.
    header.writeUInt16BE(0x8000 | (requestFlags & 0x7900) | rcode, 2);
    return header;
  }
}

export interface EnumServer {
  addresses: EnumListenAddress[];
  close(): Promise<void>;
}

/** Serves an {@link EnumResponder} on UDP and TCP (RFC 1035 4.2.2: 2-byte length before each message). */
export async function startEnumServer(
  responder: EnumResponder,
  listen: EnumListenAddress[],
  logger?: Logger,
): Promise<EnumServer> {
  const closers: (() => Promise<void>)[] = [];
  const addresses: EnumListenAddress[] = [];
  try {
    for (const address of listen) {
      if (address.transport === 'udp') {
        const socket = dgram.createSocket(net.isIPv6(address.host) ? 'udp6' : 'udp4');
        socket.on('message', (message, remote) => {
          const response = safeAnswer(responder, message, 'udp', logger);
          if (response) socket.send(response, remote.port, remote.address);
        });
        socket.on('error', (error) => logger?.warn({ err: error }, 'enum udp socket error'));
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(address.port, address.host, () => {
            socket.off('error', reject);
            resolve();
          });
        });
        addresses.push({ ...address, port: socket.address().port });
        closers.push(() => new Promise((resolve) => socket.close(() => resolve())));
      } else {
        const open = new Set<net.Socket>();
        const server = net.createServer((connection) => {
          open.add(connection);
          connection.on('close', () => open.delete(connection));
          serveTcp(connection, responder, logger);
        });
        server.maxConnections = TCP_MAX_CONNECTIONS;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(address.port, address.host, () => {
            server.off('error', reject);
            resolve();
          });
        });
        const bound = server.address() as net.AddressInfo;
        addresses.push({ ...address, port: bound.port });
        closers.push(
          () =>
            new Promise((resolve) => {
              server.close(() => resolve());
              for (const connection of open) connection.destroy();
            }),
        );
      }
    }
  } catch (error) {
    await Promise.all(closers.map((close) => close()));
    throw error;
  }
  logger?.info({ addresses }, 'enum responder listening');
  return {
    addresses,
    close: async () => {
      await Promise.all(closers.map((close) => close()));
    },
  };
}

function safeAnswer(responder: EnumResponder, message: Buffer, transport: 'udp' | 'tcp', logger?: Logger) {
  try {
    return responder.answer(message, transport);
  } catch (error) {
    // A lookup bug must not take the responder down; the query goes unanswered and the resolver retries.
    logger?.error({ err: error }, 'enum query failed');
    return null;
  }
}

function serveTcp(connection: net.Socket, responder: EnumResponder, logger?: Logger): void {
  let buffered = Buffer.alloc(0);
  connection.setTimeout(TCP_IDLE_MS, () => connection.destroy());
  connection.on('error', () => connection.destroy());
  connection.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    // Bounded: one DNS message is at most 65535 bytes, and we process whole messages as they complete.
    while (buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      if (buffered.length < 2 + length) break;
      const message = buffered.subarray(2, 2 + length);
      buffered = buffered.subarray(2 + length);
      const response = safeAnswer(responder, message, 'tcp', logger);
      if (response) {
        const framed = Buffer.alloc(2 + response.length);
        framed.writeUInt16BE(response.length, 0);
        response.copy(framed, 2);
        connection.write(framed);
      }
    }
  });
}
