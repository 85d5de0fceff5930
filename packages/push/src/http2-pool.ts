import { type ClientHttp2Session, connect, constants } from 'node:http2';

/** An answer of a push service: status, headers (lower-case names) and the body as text. */
export interface Http2Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

export interface Http2PoolOptions {
  /** Trusted CA certificates (PEM) instead of the system store, e.g. a test CA. */
  ca?: string | undefined;
  /** A request not answered within this many milliseconds fails. */
  timeoutMs?: number;
}

/** Request bodies and answers of push services are small; anything larger is not theirs. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * One HTTP/2 connection per origin, reused by every request to it (APNs asks providers to keep
 * their connections open rather than connect per notification). A connection that closes, fails
 * or receives GOAWAY is forgotten and the next request opens a new one. `http:` origins use h2c.
 */
export class Http2Pool {
  private readonly sessions = new Map<string, ClientHttp2Session>();
  private readonly timeoutMs: number;
  private closed = false;

  constructor(private readonly options: Http2PoolOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  request(url: URL, headers: Record<string, string>, body: string): Promise<Http2Answer> {
    if (this.closed) return Promise.reject(new Error('push connection pool closed'));
    const session = this.session(url.origin);
    return new Promise<Http2Answer>((resolve, reject) => {
      const stream = session.request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: `${url.pathname}${url.search}`,
        ...headers,
        'content-length': String(Buffer.byteLength(body)),
      });
      let status = 0;
      let answerHeaders: Record<string, string | undefined> = {};
      const chunks: Buffer[] = [];
      let size = 0;
      stream.setTimeout(this.timeoutMs, () => {
        stream.close(constants.NGHTTP2_CANCEL);
        reject(new Error(`no answer from ${url.origin} within ${this.timeoutMs} ms`));
      });
      stream.on('response', (received) => {
        status = Number(received[constants.HTTP2_HEADER_STATUS]);
        answerHeaders = {};
        for (const [name, value] of Object.entries(received)) {
          if (name.startsWith(':')) continue;
          answerHeaders[name] = Array.isArray(value)
            ? value.join(', ')
            : value === undefined
              ? undefined
              : String(value);
        }
      });
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
      });
      stream.on('end', () =>
        resolve({ status, headers: answerHeaders, body: Buffer.concat(chunks).toString('utf8') }),
      );
      stream.on('error', reject);
      stream.end(body);
    });
  }

  /** Closes every connection; requests in flight fail. */
  close(): void {
    this.closed = true;
    for (const session of this.sessions.values()) session.destroy();
    this.sessions.clear();
  }

  private session(origin: string): ClientHttp2Session {
    const existing = this.sessions.get(origin);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = connect(origin, this.options.ca ? { ca: this.options.ca } : {});
    const forget = (): void => {
      if (this.sessions.get(origin) === session) this.sessions.delete(origin);
    };
    session.on('close', forget);
    session.on('goaway', forget);
    // A failed connection fails its requests (they see the error); the pool only forgets it.
    session.on('error', forget);
    // An idle connection must not keep the process alive.
    session.unref();
    this.sessions.set(origin, session);
    return session;
  }
}

/**
 * Milliseconds a `Retry-After` value asks to wait (RFC 9110 §10.2.3: delay-seconds or an HTTP
 * date); `fallbackMs` when absent or unreadable.
 */
export function retryAfterMs(value: string | undefined, now: number, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return fallbackMs;
  return Math.max(0, date - now);
}
