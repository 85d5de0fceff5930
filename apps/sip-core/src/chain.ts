import type { Logger } from 'pino';
import type { IncomingRequest, Middleware, SipResponse } from './sip/request.ts';

/**
 * Runs a request down a list of stages, like drachtio-srf's `use` but explicit and testable: each
 * stage answers or calls `next()`. A stage that throws, rejects or passes an error to `next` gets
 * the request answered with 500, unless it already answered.
 */
export function chain(
  stages: readonly Middleware[],
  log: Logger,
): (req: IncomingRequest, res: SipResponse) => void {
  return (req, res) => {
    let answered = false;
    const guarded: SipResponse = {
      send(status, reason, options) {
        if (answered) return;
        answered = true;
        res.send(status, reason, options);
      },
    };
    const fail = (error: unknown): void => {
      log.error({ err: error, method: req.method, callId: req.get('Call-ID') }, 'request handling failed');
      guarded.send(500, 'Server Internal Error');
    };
    const run = (index: number): void => {
      const stage = stages[index];
      if (!stage || answered) return;
      let called = false;
      const next = (error?: unknown): void => {
        if (called) return;
        called = true;
        if (error !== undefined) fail(error);
        else run(index + 1);
      };
      try {
        const result = stage(req, guarded, next);
        if (result instanceof Promise) result.catch(fail);
      } catch (error) {
        fail(error);
      }
    };
    run(0);
  };
}
