import { type SipRequest, wireToText } from '@switchboard/sip';
import { CALLER, credentialsHeaderOf } from '../middleware/authenticate.ts';
import type { IncomingRequest, SendOptions, SipResponse } from './request.ts';
import { type HeaderIndex, RequestView, type SrfRequestLike } from './request-view.ts';

/** A request the engine in this process hands over as it parsed it (the engine's `LocalRequest`). */
export interface LocalEngineRequest {
  readonly request: SipRequest;
  readonly source: { address: string; port: number; transport: string };
  readonly receivedOn: { host: string; port: number };
  respond(status: number, reason: string | undefined, headers: Array<[string, string]>): void;
  /** Gives the request to the apps (over the drachtio protocol), as if no handler had taken it. */
  passOn(): void;
}

/**
 * The engine in sip-core's own process (the all-in-one launcher's): it answers REGISTER, and the
 * challenges and refusals of new INVITEs, through handlers here instead of sending them over the
 * drachtio protocol (the engine's `answerLocally`).
 */
export interface LocalEngine {
  answerLocally(method: 'REGISTER' | 'INVITE', handler: (request: LocalEngineRequest) => void): () => void;
}

/**
 * The engine's handler of new INVITEs: one without credentials runs `gate` (the INVITE chain's stages up
 * to the caller's identity, chains.ts `inviteGateChain`, made with `passOnAfter` as its end), which
 * answers it or passes it on. One with credentials, and one from a domain `fronted` names (a fronted
 * PBX's phones, whose calls are relayed before our digest), go straight on to the app's INVITE chain.
 */
export function gateInvites(
  gate: (req: IncomingRequest, res: LocalResponse) => void,
  fronted: (domain: string) => boolean,
): (local: LocalEngineRequest) => void {
  return (local) => {
    const request = local.request;
    if (request.hasHeader(CALLER_CREDENTIALS) || fromFrontedDomain(request, fronted)) local.passOn();
    else gate(localRequestView(local), new LocalResponse(local));
  };
}

/** The header a caller's digest response comes in (RFC 3261 §22.3), whose absence draws the 407. */
const CALLER_CREDENTIALS = credentialsHeaderOf(CALLER);

/** Whether the From domain is fronted; a From that does not parse is left to the gate's sanity stage. */
function fromFrontedDomain(request: SipRequest, fronted: (domain: string) => boolean): boolean {
  try {
    const from = request.from.uri;
    return from.kind === 'sip' && fronted(from.host);
  } catch {
    return false;
  }
}

/** The end of the INVITE gate: what its stages let through goes on to the app. */
export function passOnAfter(res: LocalResponse): void {
  res.passOn();
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

  passOn(): void {
    this.local.passOn();
  }
}
