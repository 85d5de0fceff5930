import { EventEmitter } from 'node:events';
import { createResponse } from '../messages/builders.ts';
import type { SipRequest, SipResponse } from '../messages/message.ts';
import type { FailoverRequest } from '../transactions/failover.ts';
import type { ServerTransaction } from '../transactions/manager.ts';
import type { TransportTarget } from '../transport/types.ts';
import type { Uri } from '../uri/uri.ts';
import { type BestResponseRule, chooseBestResponse } from './best-response.ts';
import type { FlowTarget } from './flow-token.ts';

export type ForkingMode = 'parallel' | 'serial';

export interface ForwardOptions {
  mode?: ForkingMode;
  /** Record-Route for this request (default: the proxy's `recordRoute`, for its record-route methods). */
  recordRoute?: boolean;
  /** Headers set on every branch (a TU's additions; never the ones §16.6 makes the proxy own). */
  headers?: Array<[string, string]>;
  /** ms a branch may go without any provisional response before it is given up (408); 0 or unset: none. */
  provisionalTimeout?: number;
  /** ms a branch may go without a final response before it is given up (408); 0 or unset: none. */
  finalTimeout?: number;
  /** §16.5: the Contacts of a 3xx join the target set (recursion) instead of the 3xx going upstream. */
  followRedirects?: boolean;
  /**
   * RFC 5626 §5.3 (edge proxy): every branch leaves on this flow instead of the next hop resolved from
   * Route / Request-URI, and our Record-Route carries its token so the dialog's requests use it too.
   */
  flow?: FlowTarget;
}

/** A final response as it arrived on a branch (our Via still on top) and the hop it came from. */
export interface ReceivedFinal {
  response: SipResponse;
  from: TransportTarget;
}

export interface ProxyContextEvents {
  /** A response sent upstream (provisional, 2xx, or the chosen best final response). */
  forwarded: [response: SipResponse];
  /**
   * A branch settled with a final response (upstream form). `received` is set when it came from the network,
   * undefined when the proxy made it (unreachable target, timeout).
   */
  branchFinal: [response: SipResponse, target: Uri, received: ReceivedFinal | undefined];
  /** A branch's request went out (once per attempt, RFC 3263 failover included). */
  branchSent: [request: SipRequest, target: Uri];
  /** A final response arrived on a branch that had been given up already (timeout): for records only. */
  lateFinal: [received: ReceivedFinal, target: Uri];
  /** The first final response that went upstream (a 2xx, or the chosen best one). */
  final: [response: SipResponse];
  /** All branches are finished and a final response went upstream. */
  completed: [final: SipResponse];
}

interface Branch {
  target: Uri;
  request?: FailoverRequest;
  final?: SipResponse;
  provisional: boolean;
  /** A final response from the network has been seen (2xx retransmissions and late answers come after). */
  heard: boolean;
  /** Its 3xx was recursed on (§16.5): the 3xx is not a candidate for the best response. */
  recursed: boolean;
  timerC?: NodeJS.Timeout;
  timers: NodeJS.Timeout[];
}

/**
 * What Timer C does to a branch that has had a provisional response (§16.8): `cancel` sends CANCEL and waits
 * for the branch's answer; `give-up` also settles the branch with a 408 at once (drachtio-server).
 */
export type TimerCAction = 'cancel' | 'give-up';

/** What the response context needs from its proxy: branches built and sent, responses sent upstream. */
export interface BranchSender {
  sendBranch(
    original: SipRequest,
    target: Uri,
    inboundListenerId: string | undefined,
    options: Pick<ForwardOptions, 'recordRoute' | 'headers' | 'flow'>,
  ): Promise<FailoverRequest>;
  respondUpstream(serverTx: ServerTransaction, response: SipResponse): void;
}

/** The proxy's settings a response context applies. */
export interface ContextSettings {
  timerC: number;
  timerCAction: TimerCAction;
  bestResponse: BestResponseRule;
}

/**
 * The response context of one proxied request (RFC 3261 §16.2): its server transaction, the branches
 * (client transactions) and the responses they received.
 */
export class ProxyContext extends EventEmitter<ProxyContextEvents> {
  readonly branches: Branch[] = [];
  private readonly queue: Uri[] = [];
  private finalSentFlag = false;
  private completed = false;
  private cancelled = false;
  private best?: SipResponse;

  constructor(
    private readonly proxy: BranchSender,
    private readonly settings: ContextSettings,
    readonly serverTx: ServerTransaction,
    readonly request: SipRequest,
    targets: Uri[],
    readonly options: ForwardOptions,
  ) {
    super();
    this.queue.push(...targets);
  }

  get isInvite(): boolean {
    return this.request.method === 'INVITE';
  }

  get mode(): ForkingMode {
    return this.options.mode ?? 'parallel';
  }

  /** A final response has gone upstream. */
  get finalSent(): boolean {
    return this.finalSentFlag;
  }

  /** Starts the first branch (serial) or all branches (parallel). */
  start(): void {
    this.startQueued();
    this.maybeFinish();
  }

  private startQueued(): void {
    if (this.mode === 'parallel') while (this.queue.length) this.startNext();
    else this.startNext();
  }

  private startNext(): void {
    const target = this.queue.shift();
    if (!target) return;
    const branch: Branch = { target, provisional: false, heard: false, recursed: false, timers: [] };
    this.branches.push(branch);
    this.proxy
      .sendBranch(this.request, target, this.serverTx.source?.listenerId, this.options)
      .then((request) => {
        branch.request = request;
        request.on('attempt', (tx) => this.emit('branchSent', tx.request, target));
        request.on('response', (res, from) => this.onBranchResponse(branch, res, from));
        request.start();
        if (this.cancelled) request.cancel();
        this.armTimerC(branch);
        this.armTimeouts(branch);
      })
      .catch(() => {
        // §16.7 step 6 note: a target that cannot be reached counts as a 503-like failure (we use 408
        // only for timeouts); record a local 503 so the best-response choice sees it.
        this.settleLocally(branch, 503);
      });
  }

  private armTimerC(branch: Branch): void {
    const timerC = this.settings.timerC;
    if (!this.isInvite || !timerC || branch.final) return;
    if (branch.timerC) clearTimeout(branch.timerC);
    branch.timerC = setTimeout(() => {
      if (branch.final) return;
      // §16.8: Timer C fires -> CANCEL a branch that had a provisional, else treat it as a 408. A proxy that
      // gives up at once (drachtio-server) cancels and settles the branch with a 408 without waiting for its 487.
      if (branch.provisional && this.settings.timerCAction === 'cancel') {
        branch.request?.cancel();
      } else {
        this.giveUp(branch);
      }
    }, timerC);
  }

  /** The TU's own per-branch limits: no provisional in time, or no final in time -> the branch is given up. */
  private armTimeouts(branch: Branch): void {
    const { provisionalTimeout, finalTimeout } = this.options;
    if (provisionalTimeout) {
      branch.timers.push(setTimeout(() => !branch.provisional && this.giveUp(branch), provisionalTimeout));
    }
    if (finalTimeout) branch.timers.push(setTimeout(() => this.giveUp(branch), finalTimeout));
  }

  /** Cancels a branch (INVITE) and settles it with a local 408 now; its own answer, if any, comes as late. */
  private giveUp(branch: Branch): void {
    if (branch.final) return;
    if (this.isInvite) branch.request?.cancel();
    this.settleLocally(branch, 408);
  }

  private settleLocally(branch: Branch, status: number): void {
    this.onBranchResponse(branch, createResponse(this.request, status, { toTag: this.request.toTag }));
  }

  private stopTimers(branch: Branch): void {
    if (branch.timerC) clearTimeout(branch.timerC);
    for (const t of branch.timers) clearTimeout(t);
  }

  /** `from` is set for responses from the network; locally made ones have none of our Vias. */
  private onBranchResponse(branch: Branch, received: SipResponse, from?: TransportTarget): void {
    const status = received.status;
    const response = from ? received.clone() : received;
    // §16.7 step 3: remove our Via before anything goes upstream (locally made responses have none of ours).
    if (from) response.removeTopVia();
    if (status < 200) {
      branch.provisional = true;
      // §16.7 step 2: a provisional response restarts Timer C.
      this.armTimerC(branch);
      // §16.7 step 5: 101-199 are forwarded at once; 100 is hop-by-hop.
      if (status > 100 && !this.finalSentFlag) this.forward(response);
      return;
    }
    const firstHeard = from !== undefined && !branch.heard;
    if (from) branch.heard = true;
    const receivedFinal = from && firstHeard ? { response: received, from } : undefined;
    if (receivedFinal && branch.final && status >= 300) {
      this.emit('lateFinal', receivedFinal, branch.target);
      return;
    }
    this.stopTimers(branch);
    if (status < 300) {
      this.onSuccess(branch, response, receivedFinal);
      return;
    }
    if (branch.final) return;
    branch.final = response;
    this.emit('branchFinal', response, branch.target, receivedFinal);
    if (status >= 600 && this.isInvite) {
      // §16.7 step 5 (6xx): cancel every pending branch and create no new ones.
      this.cancelPending();
    }
    if (status < 400 && this.options.followRedirects && !this.cancelled && !this.finalSentFlag) {
      this.recurse(branch, response);
    }
    if (
      this.mode === 'serial' &&
      !this.cancelled &&
      !this.finalSentFlag &&
      status < 600 &&
      this.queue.length
    ) {
      this.startNext();
    }
    this.maybeFinish();
  }

  private onSuccess(branch: Branch, response: SipResponse, received: ReceivedFinal | undefined): void {
    // §16.7 step 5: every 2xx to an INVITE is forwarded immediately (all forks), once for non-INVITE.
    const first = !branch.final;
    branch.final ??= response;
    if (first || received) this.emit('branchFinal', response, branch.target, received);
    if (this.isInvite) {
      // §16.7 step 10 / §16.10: a 2xx ends the other branches.
      this.cancelPending();
      this.forward(response);
    } else if (!this.finalSentFlag) {
      this.forward(response);
    }
    this.maybeFinish();
  }

  /** §16.5: a 3xx's Contacts join the target set; parallel forking starts them at once. */
  private recurse(branch: Branch, response: SipResponse): void {
    const contacts = response.contact === '*' ? [] : response.contact;
    if (!contacts.length) return;
    branch.recursed = true;
    this.queue.push(...contacts.map((c) => c.uri.clone()));
    if (this.mode === 'parallel') this.startQueued();
  }

  private maybeFinish(): void {
    const pending = this.branches.some((b) => !b.final) || (this.queue.length > 0 && !this.cancelled);
    if (pending || this.completed) return;
    this.completed = true;
    if (!this.finalSentFlag) {
      // §16.7 step 6: choose the best final response once no branch is pending; an empty target set
      // means nobody can be reached right now (480).
      const finals = this.branches.filter((b) => !b.recursed).map((b) => b.final!);
      const chosen =
        this.branches.length === 0
          ? createResponse(this.request, 480, { toTag: this.request.toTag })
          : chooseBestResponse(this.request, finals, this.settings.bestResponse);
      this.best = chosen;
      this.forward(chosen);
    }
    for (const b of this.branches) this.stopTimers(b);
    this.emit('completed', this.best ?? this.branches.find((b) => b.final && b.final.status < 300)!.final!);
  }

  /** Sends a response upstream through the server transaction (2xx after a final go statelessly, §16.7). */
  private forward(response: SipResponse): void {
    const first = response.status >= 200 && !this.finalSentFlag;
    if (response.status >= 200) this.finalSentFlag = true;
    this.emit('forwarded', response);
    if (first) this.emit('final', response);
    this.proxy.respondUpstream(this.serverTx, response);
  }

  /** §16.10: CANCEL every branch without a final response; serial forking stops. */
  cancelPending(): void {
    this.cancelled = true;
    this.queue.length = 0;
    for (const b of this.branches) {
      if (!b.final) b.request?.cancel();
    }
  }
}
