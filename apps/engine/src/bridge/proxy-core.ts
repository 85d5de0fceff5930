import { createResponse, parseUri, type SipRequest, type SipResponse, SipUri } from '@switchboard/sip';
import type { Logger } from 'pino';
import type { ProxyDirections } from '../wire/commands.ts';
import type { Flow, IncomingTransaction, OutgoingTransaction, SipStackPort } from './sip-stack.ts';

/**
 * A stateful proxy for one request (RFC 3261 §16), as an app asks for it with `proxy`: serial or
 * simultaneous forking over the destinations, Record-Route when the app wants to stay in the dialog,
 * provisional and final timeouts per branch, redirects followed on request, and the best final response
 * (§16.7) sent upstream. Each branch's final response is reported to the app; `done` ends the operation.
 */

export interface ProxyOptions extends ProxyDirections {
  /**
   * Timer C (RFC 3261 §16.6 step 11, §16.8): ms an INVITE branch may go without a final response, restarted by
   * each provisional; then the branch is cancelled. 0: none. RFC 3261 asks for more than 3 minutes.
   */
  timerCMs?: number;
}

export interface ProxyEvents {
  /** A final response from one branch (drachtio `OK|<meta>|||continue` + the response). */
  branchFinal(response: SipResponse, raw: string, flow: Flow): void;
  /** The proxy operation is over (drachtio `OK|done`). */
  done(): void;
  /**
   * Every final response a branch really received, also one arriving after the branch timed out or lost
   * (drachtio-server writes a cdr:start or cdr:stop for each).
   */
  branchResult?(response: SipResponse, raw: string): void;
  /** A branch's request went out (drachtio-server writes cdr:attempt for each INVITE branch). */
  branchSent?(request: SipRequest, raw: string): void;
  /** The final response sent upstream (drachtio-server writes cdr:start proxy-uas or cdr:stop). */
  upstreamFinal?(response: SipResponse): void;
}

interface Branch {
  target: string;
  txn: OutgoingTransaction | undefined;
  final: SipResponse | undefined;
  provisional: boolean;
  timers: NodeJS.Timeout[];
  timerC: NodeJS.Timeout | undefined;
  cancelled: boolean;
  /** Its real final response has been reported (branchResult). */
  reported: boolean;
}

export class ProxyCore {
  private readonly branches: Branch[] = [];
  private pending: string[];
  private finished = false;
  private cancelled = false;

  constructor(
    private readonly server: IncomingTransaction,
    private readonly options: ProxyOptions,
    private readonly stack: SipStackPort,
    private readonly events: ProxyEvents,
    private readonly log: Logger,
  ) {
    this.pending = [...options.destinations];
  }

  start(): void {
    const maxForwards = this.server.request.maxForwards ?? 70;
    if (maxForwards <= 0) {
      // §16.3 step 3: no hops left.
      void this.finish(createResponse(this.server.request, 483));
      return;
    }
    if (this.options.simultaneous) {
      const all = this.pending.splice(0);
      for (const target of all) void this.fork(target);
    } else {
      this.next();
    }
  }

  /** CANCEL from upstream (§16.10): cancel every branch still pending; their 487s make the final answer. */
  cancel(): void {
    this.cancelled = true;
    this.pending = [];
    for (const b of this.branches) this.cancelBranch(b);
    if (this.branches.every((b) => b.final)) void this.finishWithBest();
  }

  private next(): void {
    const target = this.pending.shift();
    if (target === undefined) {
      void this.finishWithBest();
      return;
    }
    void this.fork(target);
  }

  /** §16.6: copy the request, retarget it, decrement Max-Forwards, add Record-Route and our Via, send. */
  private async fork(target: string): Promise<void> {
    const branch: Branch = {
      target,
      txn: undefined,
      final: undefined,
      provisional: false,
      timers: [],
      timerC: undefined,
      cancelled: false,
      reported: false,
    };
    this.branches.push(branch);
    const request = this.server.request.clone();
    try {
      request.uri = parseUri(target);
      request.setHeader('Max-Forwards', (this.server.request.maxForwards ?? 70) - 1);
      for (const [name, value] of this.options.headers) request.setHeader(name, value);
      if (this.options.recordRoute) {
        const listener = this.stack.listenerFor(target);
        if (!listener) throw new Error(`no listener to reach ${target}`);
        const host = listener.advertisedAddress.includes(':')
          ? `[${listener.advertisedAddress}]`
          : listener.advertisedAddress;
        const transport = listener.transport === 'udp' ? '' : `;transport=${listener.transport}`;
        request.prependHeader('Record-Route', `<sip:${host}:${listener.advertisedPort}${transport};lr>`);
      }
      const txn = await this.stack.sendRequest(request, undefined, { proxy: true });
      branch.txn = txn;
      txn.onResponse((response, raw, flow) => this.onResponse(branch, response, raw, flow));
      this.events.branchSent?.(txn.request, txn.sent.raw);
      this.restartTimerC(branch);
      if (this.options.provisionalTimeoutMs > 0) {
        branch.timers.push(
          setTimeout(() => {
            if (!branch.provisional && !branch.final) this.timeoutBranch(branch);
          }, this.options.provisionalTimeoutMs),
        );
      }
      if (this.options.finalTimeoutMs > 0) {
        branch.timers.push(
          setTimeout(() => !branch.final && this.timeoutBranch(branch), this.options.finalTimeoutMs),
        );
      }
      if (this.cancelled) this.cancelBranch(branch);
    } catch (err) {
      this.log.info({ target, err: (err as Error).message }, 'proxy branch could not be sent');
      branch.final = createResponse(request, 503);
      this.branchDone();
    }
  }

  private onResponse(branch: Branch, response: SipResponse, raw: string, flow: Flow): void {
    const status = response.status;
    if (status >= 200 && !branch.reported) {
      branch.reported = true;
      this.events.branchResult?.(response, raw);
    }
    if (this.finished && status >= 300) return;
    if (status < 200) {
      if (status === 100) return; // §16.7 step 3: 100 is not forwarded
      branch.provisional = true;
      this.restartTimerC(branch);
      if (!this.finished) void this.relay(response);
      return;
    }
    if (branch.final && status >= 300) return;
    branch.final = response;
    branch.timers.forEach(clearTimeout);
    if (branch.timerC) clearTimeout(branch.timerC);
    if (status < 300) {
      // §16.7 step 5: a 2xx goes upstream at once; the other branches are cancelled (§16.7 step 10).
      this.events.branchFinal(response, raw, flow);
      for (const b of this.branches) if (b !== branch) this.cancelBranch(b);
      if (!this.finished) this.events.upstreamFinal?.(response);
      void this.relay(response);
      if (!this.finished) {
        this.finished = true;
        this.events.done();
      }
      return;
    }
    this.events.branchFinal(response, raw, flow);
    if (status < 400 && this.options.followRedirects && !this.cancelled) {
      // §16.5: a redirect adds its Contacts to the target set.
      const contacts = response.contact === '*' ? [] : response.contact;
      for (const c of contacts) this.pending.push(c.uri.toString());
    }
    this.branchDone();
  }

  private branchDone(): void {
    if (this.finished) return;
    if (!this.options.simultaneous || this.pending.length > 0) {
      if (this.branches.every((b) => b.final)) this.next();
      return;
    }
    if (this.branches.every((b) => b.final)) void this.finishWithBest();
  }

  /** §16.7 step 2 / §16.8: Timer C starts with an INVITE branch and again with each provisional response. */
  private restartTimerC(branch: Branch): void {
    const ms = this.options.timerCMs ?? 0;
    if (ms <= 0 || branch.final || branch.txn?.request.method !== 'INVITE') return;
    if (branch.timerC) clearTimeout(branch.timerC);
    branch.timerC = setTimeout(() => {
      if (branch.final) return;
      this.log.info({ target: branch.target }, 'proxy branch: Timer C fired');
      this.timeoutBranch(branch);
    }, ms);
    branch.timerC.unref();
  }

  private timeoutBranch(branch: Branch): void {
    this.log.info({ target: branch.target }, 'proxy branch timed out');
    this.cancelBranch(branch);
    if (!branch.final) {
      // The branch's own 487 (or 408) will come; for the serial case, move on now.
      branch.final = createResponse(branch.txn?.request ?? this.server.request, 408);
      this.branchDone();
    }
  }

  private cancelBranch(branch: Branch): void {
    if (branch.cancelled || branch.final || !branch.txn) return;
    branch.cancelled = true;
    if (branch.txn.request.method === 'INVITE') void branch.txn.cancel().catch(() => {});
  }

  /** §16.7 step 6: the best final response - a 6xx, else the lowest class, 4xx before 5xx. */
  private async finishWithBest(): Promise<void> {
    if (this.finished) return;
    const finals = this.branches.map((b) => b.final).filter((r): r is SipResponse => r !== undefined);
    const sixes = finals.filter((r) => r.status >= 600);
    const best = sixes[0] ?? finals.sort((a, b) => a.status - b.status)[0];
    await this.finish(best ?? createResponse(this.server.request, this.cancelled ? 487 : 480));
  }

  private async finish(response: SipResponse): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    for (const b of this.branches) {
      b.timers.forEach(clearTimeout);
      if (b.timerC) clearTimeout(b.timerC);
    }
    this.events.upstreamFinal?.(response);
    await this.relay(response);
    this.events.done();
  }

  /** §16.7 step 9: remove our Via and send the response upstream through the server transaction. */
  private async relay(response: SipResponse): Promise<void> {
    const upstream = response.clone();
    const vias = upstream.getHeaders('via').flatMap((v) => v.split(',').map((s) => s.trim()));
    const upstreamVias = this.server.request
      .getHeaders('via')
      .flatMap((v) => v.split(',').map((s) => s.trim()));
    if (vias.length > upstreamVias.length)
      upstream.setHeader('Via', vias.slice(vias.length - upstreamVias.length));
    try {
      await this.server.relay(upstream);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'could not relay a response upstream');
    }
  }
}

/** Whether a URI names one of our listeners (a Route to pop, §16.4). */
export function isOurs(uri: string, stack: SipStackPort): boolean {
  try {
    const parsed = parseUri(uri);
    if (!(parsed instanceof SipUri)) return false;
    return stack.listeners.some(
      (l) =>
        (parsed.host === l.advertisedAddress || parsed.host === l.host) &&
        (parsed.port ?? 5060) === l.advertisedPort,
    );
  } catch {
    return false;
  }
}

/** Removes the top Route entry (a loose router popping itself, §16.4). */
export function popTopRoute(request: SipRequest): void {
  const routes = request.route;
  request.setHeader(
    'Route',
    routes.slice(1).map((r) => r.toString()),
  );
}
