import type { SipRequest } from '@switchboard/sip';
import type { IncomingRequest, RequestLocals, SrfExchange } from './request.ts';

/** The members of a drachtio-srf Request a view reads. */
export interface SrfRequestLike {
  method: string;
  uri: string;
  source_address: string;
  source_port: number;
  protocol: string;
  receivedOn?: string;
  /**
   * Header values by name as drachtio-srf's parser stored them (compact forms already expanded), or
   * already indexed by lower-case name (the engine in this process hands its parsed fields over so).
   */
  headers: Record<string, string> | HeaderIndex;
  /** The engine's parsed message (engine in this process only). */
  message?: SipRequest;
}

/**
 * Header values by lower-case long name, several fields of one name comma-joined (a Map is one). Entries
 * in the message's order of first appearance.
 */
export interface HeaderIndex {
  get(key: string): string | undefined;
  has(key: string): boolean;
  entries(): Iterable<[string, string]>;
}

/**
 * A drachtio-srf request as every chain sees it (REGISTER, OPTIONS, INVITE). drachtio-srf's own `get`
 * reads an environment variable, unescapes and lower-cases the name, then lower-cases every header
 * name of the message to find it, for each of the fifteen or so lookups a REGISTER takes; here the
 * headers are indexed by lower-case name once, on the first lookup. Same answers: srf stores each
 * header under one name, several values comma-joined. The srf request and response stay reachable
 * (`srf`) for the B2BUA, which hands them back to drachtio-srf.
 */
export class RequestView implements IncomingRequest {
  readonly method: string;
  readonly uri: string;
  readonly source_address: string;
  readonly source_port: number;
  readonly protocol: string;
  readonly receivedOn?: string;
  locals = {} as RequestLocals;
  private index: HeaderIndex | undefined;
  /** The headers as inbound header rules left them (sbc/from-peer.ts); unset: the message's. */
  private replaced: Array<[string, string]> | undefined;

  constructor(
    private readonly request: SrfRequestLike,
    readonly srf?: SrfExchange,
  ) {
    this.method = request.method;
    this.uri = request.uri;
    this.source_address = request.source_address;
    this.source_port = request.source_port;
    this.protocol = request.protocol;
    if (request.receivedOn !== undefined) this.receivedOn = request.receivedOn;
  }

  get message(): SipRequest | undefined {
    return this.replaced ? undefined : this.request.message;
  }

  get(name: string): string | undefined {
    return this.headerIndex().get(name.toLowerCase());
  }

  headerEntries(): Array<[string, string]> {
    if (this.replaced) return [...this.replaced];
    const headers = this.request.headers;
    return isHeaderIndex(headers) ? [...headers.entries()] : Object.entries(headers);
  }

  replaceHeaders(entries: Array<[string, string]>): void {
    this.replaced = [...entries];
    this.index = indexByLowerCase(entries);
  }

  has(name: string): boolean {
    return this.headerIndex().has(name.toLowerCase());
  }

  private headerIndex(): HeaderIndex {
    if (!this.index) {
      const headers = this.request.headers;
      // Indexed by the engine already: read as it is (replaceHeaders builds a new one, never edits it).
      if (isHeaderIndex(headers)) {
        this.index = headers;
        return headers;
      }
      this.index = indexByLowerCase(Object.entries(headers));
    }
    return this.index;
  }
}

/** drachtio-srf's headers are a plain object whose values are strings, whatever the names. */
function isHeaderIndex(headers: Record<string, string> | HeaderIndex): headers is HeaderIndex {
  return typeof headers.get === 'function';
}

function indexByLowerCase(entries: Array<[string, string]>): Map<string, string> {
  const index = new Map<string, string>();
  for (const [name, value] of entries) {
    const key = name.toLowerCase();
    const previous = index.get(key);
    index.set(key, previous === undefined ? value : `${previous},${value}`);
  }
  return index;
}
