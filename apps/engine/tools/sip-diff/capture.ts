/**
 * The captured SIP traffic of differential runs: every message one server exchanged during one scenario, as it
 * was on the wire. Both servers' runs are stored in this shape and compared scenario by scenario.
 */

export interface WireMessage {
  /** Seconds since the epoch, with fractions (ordering only; never compared). */
  time: number;
  transport: 'udp' | 'tcp';
  /** `address:port` of the sender and the receiver. */
  src: string;
  dst: string;
  /** The message exactly as sent (latin1, one char per byte). */
  raw: string;
}

export interface ScenarioCapture {
  /** Stable name of the scenario (test title or upstream file). */
  scenario: string;
  /**
   * Names for fixed endpoints (`address:port` -> role), so that both runs call the same party by the same
   * name even when the servers listen on different ports. Others are named by order of appearance.
   */
  roles: Record<string, string>;
  messages: WireMessage[];
}

export interface CaptureSet {
  /** Which server produced it, e.g. `engine` or `drachtio-server v0.9.4`. */
  server: string;
  scenarios: ScenarioCapture[];
  /** Suites that ran (`contract`, `upstream`). */
  suites?: string[];
  /** Tests that failed against this server, by name. */
  failed?: string[];
  /** Tests that ran on the engine whatever the server, as they need an engine-only option: not compared. */
  notCompared?: string[];
}

export function isCaptureSet(value: unknown): value is CaptureSet {
  if (typeof value !== 'object' || value === null) return false;
  const set = value as Partial<CaptureSet>;
  return typeof set.server === 'string' && Array.isArray(set.scenarios);
}
