import type { ScenarioCapture, WireMessage } from './capture.ts';

/** One scenario's time window in a longer capture, and the server's own SIP endpoints during it. */
export interface ScenarioWindow {
  scenario: string;
  start: number;
  end: number;
  /** `address:port` of the server under test (named `server` in the capture unless `roles` says otherwise). */
  endpoints: string[];
  roles?: Record<string, string>;
}

/**
 * Cuts a capture into scenarios: a message belongs to a window when it was seen inside it and concerns the
 * server, that is, it comes from or goes to one of its endpoints, or names one (a TCP connection the server
 * opened comes from an ephemeral port, but its Via names the listener).
 */
export function splitCapture(messages: WireMessage[], windows: ScenarioWindow[]): ScenarioCapture[] {
  return windows.map((w) => {
    const roles: Record<string, string> = { ...w.roles };
    for (const e of w.endpoints) roles[e] ??= 'server';
    const concerned = (m: WireMessage) =>
      w.endpoints.some((e) => m.src === e || m.dst === e || m.raw.includes(e)) ||
      Object.keys(roles).some((e) => m.src === e || m.dst === e);
    return {
      scenario: w.scenario,
      roles,
      messages: messages.filter((m) => m.time >= w.start && m.time <= w.end && concerned(m)),
    };
  });
}
