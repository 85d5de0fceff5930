import { type SipRequest, wireToText } from '@switchboard/sip';
import type { IncomingRequest, SendOptions, SipResponse } from './request.ts';
import { RequestView, type SrfRequestLike } from './request-view.ts';

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
 * built from the engine's parsed header fields instead of a second parse of the message's text. Several
 * fields of one name are comma-joined under the lower-case long name, as drachtio-srf stores them; the
 * view reads this index as it is, without building one of its own.
 */
export function localRequestView(local: LocalEngineRequest): IncomingRequest {
  const request = local.request;
  const headers = new Map<string, string>();
  for (const field of request.headers) {
    const previous = headers.get(field.key);
    const value = wireToText(field.value);
    headers.set(field.key, previous === undefined ? value : `${previous},${value}`);
  }
  const startLine = request.startLine();
  const like: SrfRequestLike = {
    method: request.method,
    uri: wireToText(startLine.slice(startLine.indexOf(' ') + 1, startLine.lastIndexOf(' '))),
    source_address: local.source.address,
    source_port: local.source.port,
    protocol: local.source.transport,
    receivedOn: `${local.receivedOn.host}:${local.receivedOn.port}`,
    headers,
    message: request,
  };
  return new RequestView(like);
}

/** A chain's answers to the engine's request (the reply mode header travels, as it does to the engine). */
export class LocalResponse implements SipResponse {
  constructor(private readonly local: LocalEngineRequest) {}

  send(status: number, reason?: string, options?: SendOptions): void {
    this.local.respond(status, reason || undefined, Object.entries(options?.headers ?? {}));
  }
}
