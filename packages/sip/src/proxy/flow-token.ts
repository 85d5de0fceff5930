import type { TransportProtocol } from '../transport/types.ts';

/**
 * A flow token (RFC 5626 §5.2): the user part of a Route or Record-Route URI that names one flow of the
 * proxy it points at, the transport and the far address and port a device registered over. The proxy
 * that holds the flow sends requests carrying its own URI with this token out on that flow instead of
 * resolving the Request-URI (a device behind NAT, or on a TCP/TLS/WS connection to that proxy).
 *
 * The token is not signed: a proxy honours it only from peers it trusts (see the engine's cluster step).
 */
export interface FlowTarget {
  transport: TransportProtocol;
  address: string;
  port: number;
}

const PREFIX = 'flow-';
const TRANSPORTS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls', 'ws', 'wss']);

/** `flow-<base64url of "transport address port">`: only unreserved characters, valid as a URI user part. */
export function encodeFlowToken(flow: FlowTarget): string {
  return PREFIX + Buffer.from(`${flow.transport} ${flow.address} ${flow.port}`).toString('base64url');
}

/** The flow a token names; undefined for anything that is not a well-formed token of ours. */
export function decodeFlowToken(user: string | undefined): FlowTarget | undefined {
  if (!user?.startsWith(PREFIX)) return undefined;
  const parts = Buffer.from(user.slice(PREFIX.length), 'base64url').toString('utf8').split(' ');
  if (parts.length !== 3) return undefined;
  const [transport, address, portText] = parts as [string, string, string];
  const port = Number(portText);
  if (!TRANSPORTS.has(transport) || !/^[0-9a-fA-F.:]+$/.test(address)) return undefined;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { transport: transport as TransportProtocol, address, port };
}
