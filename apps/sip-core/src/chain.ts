import type { Logger } from 'pino';
import type { IncomingRequest, Middleware, SendOptions, SipResponse } from './sip/request.ts';

/**
 * Runs a request down a list of stages, like drachtio-srf's `use` but explicit and testable: each
 * stage answers or calls `next()`. A stage that throws, rejects or passes an error to `next` gets
 * the request answered with 500, unless it already answered. A request the last stage lets through
 * goes to `passed`, when given (a part of a chain run before the rest: chains.ts `inviteGateChain`).
 */
export function chain<R extends SipResponse = SipResponse>(
  stages: readonly Middleware[],
  log: Logger,
  passed?: (res: R) => void,
): (req: IncomingRequest, res: R) => void {
  return (req, res) => new ChainRun(stages, log, req, res, passed).run(0);
}

/**
 * One request's way down the stages. A class rather than closures: every request passes here, and
 * closures made per request and per stage cost an allocation each plus, under tsx (which keeps
 * function names), a `defineProperty` each; they were 1.8 % of a REGISTER's CPU in the profile
 * (docs/performance.md, "Profile-driven changes").
 */
class ChainRun<R extends SipResponse> implements SipResponse {
  private answered = false;
  /** The stage whose `next` may still move on: a stage's second `next()` is ignored. */
  private current = -1;

  constructor(
    private readonly stages: readonly Middleware[],
    private readonly log: Logger,
    private readonly req: IncomingRequest,
    private readonly res: R,
    private readonly passed: ((res: R) => void) | undefined,
  ) {}

  /** The stages answer through here: only the first answer goes out. */
  send(status: number, reason?: string, options?: SendOptions): void {
    if (this.answered) return;
    this.answered = true;
    this.res.send(status, reason, options);
  }

  run(index: number): void {
    const stage = this.stages[index];
    if (this.answered) return;
    if (!stage) {
      this.passed?.(this.res);
      return;
    }
    this.current = index;
    try {
      const result = stage(this.req, this, this.nextOf(index));
      if (result instanceof Promise) result.catch((error: unknown) => this.failWith(error));
    } catch (error) {
      this.failWith(error);
    }
  }

  private nextOf(index: number): (error?: unknown) => void {
    return (error) => {
      if (this.current !== index) return;
      this.current = -1;
      if (error !== undefined) this.failWith(error);
      else this.run(index + 1);
    };
  }

  private failWith(error: unknown): void {
    this.log.error(
      { err: error, method: this.req.method, callId: this.req.get('Call-ID') },
      'request handling failed',
    );
    this.send(500, 'Server Internal Error');
  }
}
