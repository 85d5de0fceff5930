import type { RateLimiter } from '../access/rate-limiter.ts';

/** Limits on instant messages (SIP MESSAGE, RFC 3428), operator settings `messages.*`. */
export interface MessagesConfig {
  /** Largest body accepted, in bytes; a larger one gets 413 (RFC 3428 §7). */
  maxBytes: number;
  /** Messages one subscriber may send per minute (a minute's worth at once); 0: no limit. */
  ratePerMinute: number;
}

export const DEFAULT_MESSAGES: MessagesConfig = { maxBytes: 4096, ratePerMinute: 60 };

/** The per-sender token bucket follows the setting: `ratePerMinute` per minute, as many at once. */
export function configureMessageLimiter(limiter: RateLimiter, config: MessagesConfig): void {
  limiter.configure(config.ratePerMinute / 60, Math.max(1, config.ratePerMinute));
}
