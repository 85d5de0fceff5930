import type { Logger } from 'pino';
import type { SipMessageObserver } from './observed-transport.ts';

/** SIP_TRACE: one log event per message sent or received, with the whole message as text. */
export function traceObserver(trace: Logger): SipMessageObserver {
  return (event) => {
    const peer = `${event.remoteAddress}:${event.remotePort}`;
    trace.info(
      event.direction === 'in'
        ? { dir: 'recv', from: peer, transport: event.transport }
        : { dir: 'send', to: peer, transport: event.transport },
      `\n${event.message.toString()}`,
    );
  };
}
