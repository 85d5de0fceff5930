import type { IncomingRequest, RequestLocals, SendOptions, SipResponse } from '../../src/sip/request.ts';

/** A request shaped like drachtio-srf's, built from a header list (unit tests only). */
export class FakeRequest implements IncomingRequest {
  locals = undefined as unknown as RequestLocals;
  receivedOn?: string;
  private readonly headers = new Map<string, string>();

  constructor(
    readonly method: string,
    readonly uri: string,
    headers: Record<string, string>,
    readonly source_address = '192.0.2.10',
    readonly source_port = 5060,
    readonly protocol = 'udp',
  ) {
    for (const [name, value] of Object.entries(headers)) this.headers.set(name.toLowerCase(), value);
  }

  get(name: string): string | undefined {
    return this.headers.get(name.toLowerCase());
  }

  has(name: string): boolean {
    return this.headers.has(name.toLowerCase());
  }
}

export interface SentResponse {
  status: number;
  reason: string | undefined;
  headers: Record<string, string>;
}

/** Records what the chain answered; `answered` resolves with the first response. */
export class FakeResponse implements SipResponse {
  readonly sent: SentResponse[] = [];
  private resolveAnswered!: (response: SentResponse) => void;
  readonly answered = new Promise<SentResponse>((resolve) => {
    this.resolveAnswered = resolve;
  });

  send(status: number, reason?: string, options?: SendOptions): void {
    const response = { status, reason, headers: options?.headers ?? {} };
    this.sent.push(response);
    this.resolveAnswered(response);
  }
}
