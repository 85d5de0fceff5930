/**
 * Why a media operation failed. Callers branch on `code`, never on message text:
 * - `bad-sdp`: rtpengine could not parse the SDP (or it was rejected before sending: empty, not SDP).
 * - `unknown-call` / `unknown-tag`: the call or the leg is not (or no longer) on the instance.
 * - `no-ports`: the instance ran out of RTP ports.
 * - `overloaded`: the instance answered "load limit".
 * - `unsupported`: the command or option is not supported by this rtpengine or by the no-anchoring mode.
 * - `timeout`: no reply within the request timeout.
 * - `unavailable`: no instance answered within the call set-up deadline.
 * - `transport`: the NG socket failed (send error, closed client).
 * - `invalid-config` / `invalid-argument`: a programming or configuration error on our side.
 * - `rtpengine`: any other `result: error` reply; `reason` holds rtpengine's error-reason.
 */
export type MediaErrorCode =
  | 'bad-sdp'
  | 'unknown-call'
  | 'unknown-tag'
  | 'no-ports'
  | 'overloaded'
  | 'unsupported'
  | 'timeout'
  | 'unavailable'
  | 'transport'
  | 'invalid-config'
  | 'invalid-argument'
  | 'rtpengine';

export class MediaError extends Error {
  override readonly name = 'MediaError';
  readonly code: MediaErrorCode;
  /** rtpengine's `error-reason` text when the error came from a reply. */
  readonly reason: string | undefined;
  /** The NG address (`host:port`) of the instance involved, when there was one. */
  readonly instance: string | undefined;

  constructor(
    code: MediaErrorCode,
    message: string,
    details: { reason?: string; instance?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.reason = details.reason;
    this.instance = details.instance;
  }

  /**
   * True when the failure says nothing about the request itself, only about the instance: the same
   * request may succeed on another instance (a new call may fail over).
   */
  get instanceFault(): boolean {
    return (
      this.code === 'timeout' ||
      this.code === 'transport' ||
      this.code === 'overloaded' ||
      this.code === 'no-ports'
    );
  }
}

/** Maps rtpengine's free-text `error-reason` to a stable code. The texts are those of rtpengine 10.5. */
export function codeForErrorReason(reason: string): MediaErrorCode {
  const text = reason.toLowerCase();
  if (text.includes('unknown call-id') || text.includes('unknown call id')) return 'unknown-call';
  if (text.includes('unknown from-tag') || text.includes('unknown to-tag') || text.includes('unknown tag')) {
    return 'unknown-tag';
  }
  if (text.includes('sdp')) return 'bad-sdp';
  if (text.includes('ran out of ports') || text.includes('no ports')) return 'no-ports';
  if (text.includes('unknown command') || text.includes('not supported') || text.includes('unsupported')) {
    return 'unsupported';
  }
  return 'rtpengine';
}
