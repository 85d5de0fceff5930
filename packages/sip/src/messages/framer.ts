import { isWsp, trimWs } from '../syntax/charset.ts';
import { SipParseError } from '../syntax/errors.ts';
import { headerKey } from './header-names.ts';
import { parseContentLength } from './headers.ts';

export interface FramerOptions {
  /** Largest message (head + body) accepted on the stream (default 65535). */
  maxMessageSize?: number;
}

export interface FrameResult {
  /** Complete messages, each exactly its head and Content-Length body bytes; feed them to parseMessage. */
  messages: Buffer[];
  /** Bytes that do not yet form a complete message. */
  rest: Buffer;
  /** Keep-alive pings (CRLF CRLF) seen between messages: answer each with a CRLF pong (RFC 5626 §4.4.1). */
  pings: number;
  /** Keep-alive pongs (a lone CRLF) seen between messages. */
  pongs: number;
  /** Set when the stream cannot be framed any more (missing/invalid Content-Length, too large): close it. */
  error?: SipParseError;
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Cut complete SIP messages out of the bytes received on a stream transport (TCP, TLS), using
 * Content-Length (RFC 3261 §18.3). Pure function: returns the messages and the unconsumed rest.
 */
export function frameMessages(buffer: Buffer, options: FramerOptions = {}): FrameResult {
  const max = options.maxMessageSize ?? 65535;
  const messages: Buffer[] = [];
  let pings = 0;
  let pongs = 0;
  let pos = 0;
  const result = (error?: SipParseError): FrameResult => {
    const r: FrameResult = { messages, rest: buffer.subarray(pos), pings, pongs };
    if (error) r.error = error;
    return r;
  };
  while (pos < buffer.length) {
    // keep-alives and stray empty lines between messages
    if (buffer[pos] === 0x0d) {
      if (pos + 1 >= buffer.length) break; // wait for the LF
      if (buffer[pos + 1] !== 0x0a)
        return result(new SipParseError('INVALID_START_LINE', 'bare CR between messages'));
      if (pos + 3 < buffer.length && buffer[pos + 2] === 0x0d && buffer[pos + 3] === 0x0a) {
        pings++;
        pos += 4;
      } else {
        pongs++;
        pos += 2;
      }
      continue;
    }
    const headEnd = buffer.indexOf(CRLFCRLF, pos);
    if (headEnd < 0) {
      if (buffer.length - pos > max) {
        return result(
          new SipParseError('HEADER_SECTION_TOO_LARGE', `no end of header section within ${max} bytes`),
        );
      }
      break;
    }
    if (headEnd + 4 - pos > max) {
      return result(
        new SipParseError('MESSAGE_TOO_LARGE', `header section exceeds the limit of ${max} bytes`),
      );
    }
    let length: number;
    try {
      length = findContentLength(buffer.toString('latin1', pos, headEnd));
    } catch (error) {
      return result(error as SipParseError);
    }
    const total = headEnd + 4 - pos + length;
    if (total > max) {
      return result(
        new SipParseError('MESSAGE_TOO_LARGE', `message of ${total} bytes exceeds the limit of ${max}`),
      );
    }
    if (buffer.length - pos < total) break; // body not complete yet
    messages.push(buffer.subarray(pos, pos + total));
    pos += total;
  }
  return result();
}

/** The Content-Length of a header section (compact "l" accepted, folding tolerated). */
function findContentLength(head: string): number {
  let found: string | undefined;
  let lineStart = head.indexOf('\r\n');
  if (lineStart < 0)
    throw new SipParseError('MISSING_CONTENT_LENGTH', 'Content-Length is mandatory on stream transports');
  lineStart += 2;
  let collecting = false;
  while (lineStart <= head.length) {
    let lineEnd = head.indexOf('\r\n', lineStart);
    if (lineEnd < 0) lineEnd = head.length;
    const line = head.slice(lineStart, lineEnd);
    if (line.length > 0 && isWsp(line.charCodeAt(0))) {
      if (collecting) found = `${found} ${trimWs(line)}`;
    } else {
      collecting = false;
      const colon = line.indexOf(':');
      if (colon > 0 && headerKey(trimWs(line.slice(0, colon))) === 'content-length') {
        if (found !== undefined) {
          throw new SipParseError(
            'DUPLICATE_HEADER',
            'Content-Length header appears more than once',
            'content-length',
          );
        }
        found = line.slice(colon + 1);
        collecting = true;
      }
    }
    lineStart = lineEnd + 2;
  }
  if (found === undefined) {
    throw new SipParseError(
      'MISSING_CONTENT_LENGTH',
      'Content-Length is mandatory on stream transports',
      'content-length',
    );
  }
  return parseContentLength(found);
}

/**
 * Stateful framer for one connection: push() each received chunk, get back the complete messages.
 * After an error the framer stays failed (the connection must be closed: its framing is lost).
 */
export class StreamFramer {
  private pending: Buffer = Buffer.alloc(0);
  private failure: SipParseError | undefined;

  constructor(private readonly options: FramerOptions = {}) {}

  /** Bytes buffered waiting for the rest of a message. */
  get buffered(): number {
    return this.pending.length;
  }

  get error(): SipParseError | undefined {
    return this.failure;
  }

  push(chunk: Buffer): Omit<FrameResult, 'rest'> {
    if (this.failure) return { messages: [], pings: 0, pongs: 0, error: this.failure };
    const input = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const r = frameMessages(input, this.options);
    // copy the remainder so the caller's chunk buffers can be reused
    this.pending = r.rest.length === 0 ? Buffer.alloc(0) : Buffer.from(r.rest);
    const out: Omit<FrameResult, 'rest'> = { messages: r.messages, pings: r.pings, pongs: r.pongs };
    if (r.error) {
      this.failure = r.error;
      this.pending = Buffer.alloc(0);
      out.error = r.error;
    }
    return out;
  }
}
