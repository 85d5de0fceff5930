import { type SipRequest, wireToText } from '@switchboard/sip';
import type { IncomingRequest, SendOptions, SipResponse } from './request.ts';
import { type HeaderIndex, RequestView, type SrfRequestLike } from './request-view.ts';

/** A request the engine in this process hands over as it parsed it (the engine's `LocalRequest`). */
export interface LocalEngineRequest {
  readonly request: SipRequest;
  readonly source: { address: string; port: number; transport: string };
  readonly receivedOn: { host: string; port: number };
  respond(status: number, reason: string | undefined, headers: Array<[string, string]>): void;
}

/**
 * The engine in sip-core's own process (the all-in-one launcher's): it answers REGISTER through a
 * handler here instead of sending it over the drachtio protocol (the engine's `answerLocally`).
 */
export interface LocalEngine {
  answerLocally(method: 'REGISTER', handler: (request: LocalEngineRequest) => void): () => void;
}

/**
 * The engine's request as every chain sees a request: the same view as drachtio-srf's (sip/request-view.ts),
 * read from the engine's parsed header fields instead of a second parse of the message's text.
 */
export function localRequestView(local: LocalEngineRequest): IncomingRequest {
  const request = local.request;
  const startLine = request.startLine();
  const like: SrfRequestLike = {
    method: request.method,
    uri: wireToText(startLine.slice(startLine.indexOf(' ') + 1, startLine.lastIndexOf(' '))),
    source_address: local.source.address,
    source_port: local.source.port,
    protocol: local.source.transport,
    receivedOn: `${local.receivedOn.host}:${local.receivedOn.port}`,
    headers: new FieldLookup(request),
    message: request,
  };
  return new RequestView(like);
}

/**
 * The header values of the engine's parsed message by lower-case long name, several fields of one name
 * comma-joined, as drachtio-srf stores them. Each lookup reads the fields it names: a REGISTER's chain
 * asks for about ten names, and indexing every field of every message first cost 3 % of the registrar's
 * busy time. The message is not changed while a chain runs on it.
 */
class FieldLookup implements HeaderIndex {
  constructor(private readonly request: SipRequest) {}

  get(key: string): string | undefined {
    let value: string | undefined;
    for (const field of this.request.headers) {
      if (field.key !== key) continue;
      const text = wireToText(field.value);
      value = value === undefined ? text : `${value},${text}`;
    }
    return value;
  }

  has(key: string): boolean {
    return this.request.headers.some((field) => field.key === key);
  }

  entries(): Array<[string, string]> {
    const byKey = new Map<string, string>();
    for (const field of this.request.headers) {
      if (!byKey.has(field.key)) byKey.set(field.key, this.get(field.key) as string);
    }
    return [...byKey];
  }
}

/** A chain's answers to the engine's request (the reply mode header travels, as it does to the engine). */
export class LocalResponse implements SipResponse {
  constructor(private readonly local: LocalEngineRequest) {}

  send(status: number, reason?: string, options?: SendOptions): void {
    this.local.respond(status, reason || undefined, Object.entries(options?.headers ?? {}));
  }
}
