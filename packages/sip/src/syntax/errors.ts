/**
 * Every failure to read SIP text from the wire surfaces as a SipParseError: a stable machine-readable
 * `code`, a message naming what is wrong, and the status a UAS or proxy should answer a request with
 * (responses that fail to parse are simply dropped, RFC 3261 §18.1.2 / §16.7).
 *
 * The public parse functions throw nothing else: any other exception inside them is a bug, and is wrapped
 * into an INTERNAL_ERROR SipParseError so that hostile input can never escape as an arbitrary exception.
 */
export type SipParseErrorCode =
  | 'EMPTY_MESSAGE'
  | 'MESSAGE_TOO_LARGE'
  | 'HEADER_SECTION_TOO_LARGE'
  | 'TOO_MANY_HEADERS'
  | 'LINE_TOO_LONG'
  | 'MISSING_HEADER_TERMINATOR'
  | 'INVALID_START_LINE'
  | 'INVALID_METHOD'
  | 'INVALID_REQUEST_URI'
  | 'REQUEST_URI_HAS_HEADERS'
  | 'UNSUPPORTED_VERSION'
  | 'INVALID_STATUS_CODE'
  | 'INVALID_HEADER_NAME'
  | 'INVALID_HEADER_VALUE'
  | 'MISSING_HEADER'
  | 'DUPLICATE_HEADER'
  | 'CSEQ_METHOD_MISMATCH'
  | 'INVALID_CONTENT_LENGTH'
  | 'MISSING_CONTENT_LENGTH'
  | 'BODY_TRUNCATED'
  | 'INVALID_URI'
  | 'UNSUPPORTED_URI_SCHEME'
  | 'INTERNAL_ERROR';

/** Default SIP status to answer a request with, per error code. */
const STATUS_BY_CODE: Record<SipParseErrorCode, number> = {
  EMPTY_MESSAGE: 400,
  MESSAGE_TOO_LARGE: 513,
  HEADER_SECTION_TOO_LARGE: 513,
  TOO_MANY_HEADERS: 513,
  LINE_TOO_LONG: 513,
  MISSING_HEADER_TERMINATOR: 400,
  INVALID_START_LINE: 400,
  INVALID_METHOD: 400,
  INVALID_REQUEST_URI: 400,
  REQUEST_URI_HAS_HEADERS: 400,
  UNSUPPORTED_VERSION: 505,
  INVALID_STATUS_CODE: 400,
  INVALID_HEADER_NAME: 400,
  INVALID_HEADER_VALUE: 400,
  MISSING_HEADER: 400,
  DUPLICATE_HEADER: 400,
  CSEQ_METHOD_MISMATCH: 400,
  INVALID_CONTENT_LENGTH: 400,
  MISSING_CONTENT_LENGTH: 400,
  BODY_TRUNCATED: 400,
  INVALID_URI: 400,
  UNSUPPORTED_URI_SCHEME: 416,
  INTERNAL_ERROR: 500,
};

export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  /** Stable identifier of what is wrong. */
  readonly code: SipParseErrorCode;
  /** The status a server should answer a request with (400, 416, 505, 513...). */
  readonly status: number;
  /** The header field the problem was found in, when there is one (canonical lower-case name). */
  readonly header: string | undefined;

  constructor(code: SipParseErrorCode, message: string, header?: string) {
    super(message);
    this.code = code;
    this.status = STATUS_BY_CODE[code];
    this.header = header;
  }

  /**
   * Reason phrase for the status line of the error response: short, printable ASCII only (the message
   * may quote hostile bytes from the input).
   */
  get reasonPhrase(): string {
    return this.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
  }
}

/** Run `fn`; convert anything that is not a SipParseError into one, so the public API throws one type. */
export function guardParse<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SipParseError) throw error;
    throw new SipParseError('INTERNAL_ERROR', `internal parser error: ${(error as Error)?.message ?? error}`);
  }
}
