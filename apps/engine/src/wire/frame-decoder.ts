/**
 * Framing of the drachtio wire protocol: every message is `<decimal byte length>#<payload>`.
 *
 * drachtio-server reads at most five length digits (a sixth digit is a protocol error), so no frame is larger
 * than 99 999 bytes; we apply the same bound, which also caps the memory one connection can make us hold.
 */

export const MAX_LENGTH_DIGITS = 5;
export const MAX_FRAME_BYTES = 99_999;

export class WireFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

/** Encodes one payload as a frame; the length counts UTF-8 bytes, not characters. */
export function encodeFrame(payload: string): string {
  return `${Buffer.byteLength(payload, 'utf8')}#${payload}`;
}

/**
 * Incremental decoder for one connection. Feed it every chunk read from the socket; it returns the complete
 * payloads and keeps the remainder. A malformed length prefix throws WireFormatError: the stream cannot be
 * resynchronised after that, so the caller closes the connection.
 */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const payloads: string[] = [];
    for (;;) {
      const hash = this.pending.subarray(0, MAX_LENGTH_DIGITS + 1).indexOf(0x23 /* '#' */);
      if (hash < 0) {
        this.checkDigits(Math.min(this.pending.length, MAX_LENGTH_DIGITS + 1));
        if (this.pending.length > MAX_LENGTH_DIGITS) {
          throw new WireFormatError(`frame length has more than ${MAX_LENGTH_DIGITS} digits`);
        }
        return payloads;
      }
      if (hash === 0) throw new WireFormatError('frame without a length before #');
      this.checkDigits(hash);
      const length = Number(this.pending.toString('latin1', 0, hash));
      if (length === 0) throw new WireFormatError('frame of length 0');
      const end = hash + 1 + length;
      if (this.pending.length < end) return payloads;
      payloads.push(this.pending.toString('utf8', hash + 1, end));
      this.pending = this.pending.subarray(end);
    }
  }

  /** Bytes received but not yet part of a complete frame. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  private checkDigits(count: number): void {
    for (let i = 0; i < count; i++) {
      const c = this.pending[i]!;
      if (c < 0x30 || c > 0x39) throw new WireFormatError('frame length is not a decimal number');
    }
  }
}
