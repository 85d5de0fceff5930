import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Call scenarios for tests outside sip-core that place a real call through the platform: a phone
 * registering with digest (`register.xml`), a callee answering and waiting for the BYE
 * (`uas-answer.xml`) and an authenticating caller that hangs up (`uac-call-bye.xml`, or `uac-call-talk.xml`
 * after sipp's `-d` milliseconds, for tests that look at the call while it lasts). Their SDP checks
 * accept any media relay's rewrite (the `a=rtcp` line rtpengine adds), whatever its port range.
 */
export const CALL_SCENARIOS = fileURLToPath(new URL('../sipp/', import.meta.url));

/** Fields of `register.xml`: `user@domain` registers with digest authentication. */
export function registerFields(user: string, password: string, domain: string): string[] {
  return [user, `[authentication username=${user} password=${password}]`, domain];
}

/** Fields of `uac-call-bye.xml`: `caller` (authenticating) calls `callee` in the same domain. */
export function callFields(caller: string, password: string, domain: string, callee: string): string[] {
  return [caller, `[authentication username=${caller} password=${password}]`, domain, callee];
}

/**
 * Resolves once some process listens on `port` of the IPv4 `address` (a sipp UAS ready for its call).
 * It reads the kernel's socket table instead of binding the port, which could take it from the program
 * about to bind it. Linux only; bounded by `timeoutMs`.
 */
export async function waitForListener(
  port: number,
  { address = '127.0.0.1', protocol = 'udp', timeoutMs = 10_000 }: ListenerQuery = {},
): Promise<void> {
  // /proc/net/{udp,tcp} print the local address as the IPv4 address's bytes in host (little-endian) order.
  const hexAddress = address
    .split('.')
    .reverse()
    .map((octet) => Number(octet).toString(16).toUpperCase().padStart(2, '0'))
    .join('');
  const wanted = `${hexAddress}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const table = readFileSync(`/proc/net/${protocol}`, 'utf8');
    if (table.split('\n').some((line) => line.trim().split(/\s+/)[1] === wanted)) return;
    if (Date.now() > deadline)
      throw new Error(`nothing listens on ${protocol.toUpperCase()} ${address}:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface ListenerQuery {
  /** IPv4 address (default 127.0.0.1). */
  address?: string;
  protocol?: 'udp' | 'tcp';
  timeoutMs?: number;
}

/** `waitForListener` for UDP on 127.0.0.1. */
export function waitForUdpListener(port: number, timeoutMs = 10_000): Promise<void> {
  return waitForListener(port, { timeoutMs });
}
