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
  headers: Record<string, string> | Map<string, string>;
  /** The engine's parsed message (engine in this process only). */
  message?: SipRequest;
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
  private index: Map<string, string> | undefined;
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
    return headers instanceof Map ? [...headers] : Object.entries(headers);
  }

  replaceHeaders(entries: Array<[string, string]>): void {
    this.replaced = [...entries];
    this.index = new Map();
    for (const [name, value] of entries) {
      const key = name.toLowerCase();
      const previous = this.index.get(key);
      this.index.set(key, previous === undefined ? value : `${previous},${value}`);
    }
  }

  has(name: string): boolean {
    return this.headerIndex().has(name.toLowerCase());
  }

  private headerIndex(): Map<string, string> {
    if (!this.index) {
      const headers = this.request.headers;
      // Indexed by the engine already: read as it is (replaceHeaders builds a new one, never edits it).
      if (headers instanceof Map) {
        this.index = headers;
        return headers;
      }
      this.index = new Map();
      for (const [name, value] of Object.entries(headers)) {
        const key = name.toLowerCase();
        const previous = this.index.get(key);
        this.index.set(key, previous === undefined ? value : `${previous},${value}`);
      }
    }
    return this.index;
  }
}
