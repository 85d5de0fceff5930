import type { LegProfile } from '@switchboard/media';
import type { FlowTarget } from '@switchboard/sip';
import type { CallDisposition, CdrEnd, CdrStart } from '../cdr/cdr-writer.ts';
import type { Call } from './call.ts';

/** One place the B leg may go: a registered device or a gateway. */
export interface CallTarget {
  /** Request-URI of the B leg's INVITE. */
  uri: string;
  /** Where to send it (the device's NAT-facing address, or the gateway), as a SIP URI. */
  proxy: string;
  profile: LegProfile;
  /** Extra headers of this leg's INVITE (e.g. caller identity towards a gateway). */
  headers?: Record<string, string>;
  /** Digest credentials when the gateway challenges. */
  auth?: { username: string; password: string } | undefined;
  /** The peer gateway, for the CDR. */
  gatewayId?: string | undefined;
  /**
   * The subscriber whose device this is, when one stage rings several subscribers (a parallel hunt
   * group): the one that answers becomes the CDR's callee.
   */
  subscriberId?: string | undefined;
  /**
   * Call admission control of a peer-side leg (docs/sbc.md): room for one more call through the
   * gateway, counted until `release`; refused, the round goes on to the next gateway.
   */
  claim?: (() => LegClaim) | undefined;
  /** The request as it leaves towards a peer: header rules and topology hiding (sbc/towards-peer.ts). */
  rewrite?: ((request: OutgoingRequest) => OutgoingRequest) | undefined;
  /**
   * The caller answers this target's digest challenge itself (a fronted PBX, docs/sbc.md): a 401/407
   * goes back to the caller with its challenge header instead of being answered by us.
   */
  relayChallenge?: boolean | undefined;
  /** Seconds an answered call through this target may last (the peer's cap). */
  maxDurationS?: number | undefined;
  /** Headers of in-dialog requests and responses sent to this peer (sbc/towards-peer.ts). */
  inDialog?: InDialogHeaders | undefined;
  /** This peer's inbound header rules on its own in-dialog requests (sbc/towards-peer.ts). */
  fromPeer?: ReceivedHeaders | undefined;
  /**
   * A device's binding: the node whose engine holds the device's flow, and the flow as that engine
   * sees it; another node's devices are reached through it (cluster-route.ts).
   */
  heldBy?: { node: string; flow: FlowTarget } | undefined;
}

/** The seconds a prepaid call's reserved credit pays for, and how to ask for more. */
export interface CreditGrant {
  seconds: number;
  /** Reserves more; resolves with the seconds added (0: the balance or a spend limit is exhausted). */
  extend: () => Promise<number>;
  /** The CDR's `sip_reason` when the call is cut: `balance-exhausted` or `spend-limit-reached`. */
  cutReason: () => string;
}

/**
 * The headers of an in-dialog request (or of a response to one) the B2BUA sends to a peer, by its
 * `method` (the request's, for a response): header rules and topology hiding (docs/sbc.md).
 * `received`: the headers of the other leg's request that caused it (its BYE, re-INVITE), if any.
 */
export type InDialogHeaders = (
  method: string,
  received?: ReadonlyArray<[string, string]>,
) => Record<string, string>;

/**
 * A peer's inbound header rules on its own in-dialog request (BYE, re-INVITE, UPDATE), by its
 * `method`: what they leave of `received` is what the other side's request may take over
 * (docs/sbc.md, "In the dialog").
 */
export type ReceivedHeaders = (
  method: string,
  received: ReadonlyArray<[string, string]>,
) => Array<[string, string]>;

/** The Request-URI and headers of a B leg's INVITE. */
export interface OutgoingRequest {
  uri: string;
  headers: Record<string, string>;
}

/** A peer-side leg's admission: counted until released, or refused (503 with Retry-After). */
export type LegClaim =
  | { ok: true; release: () => void }
  | { ok: false; status: number; reason: string; retryAfter?: number | undefined };

/** A fork's final failure; `retryAfter` (seconds) when a limit of ours refused it. */
export interface LegFailure {
  status: number;
  reason: string;
  retryAfter?: number | undefined;
  /** A fronted PBX's digest challenge (its 401/407 header), which the caller answers itself (docs/sbc.md). */
  challenge?: Record<string, string> | undefined;
}

/**
 * A device that must be woken before it can ring (RFC 8599 §7): a push binding without a live flow.
 * `ready` pushes the app and waits for its REGISTER; it resolves with where the fork goes then, or
 * undefined when the device did not come back in time (or `signal` ended the wait: the caller
 * cancelled, the round timed out, another device answered).
 */
export interface WakeTarget {
  kind: 'wake';
  profile: LegProfile;
  /** Headers the route adds to every leg (Diversion, History-Info), applied to the woken target. */
  headers?: Record<string, string>;
  /** As `CallTarget.subscriberId`. */
  subscriberId?: string | undefined;
  ready(signal: AbortSignal): Promise<CallTarget | undefined>;
}

/** What a fork of a round rings: a reachable target, or a device to wake first. */
export type RingTarget = CallTarget | WakeTarget;

export function isWakeTarget(target: RingTarget): target is WakeTarget {
  return 'kind' in target && target.kind === 'wake';
}

/**
 * One round of ringing: the targets of one destination (a subscriber's devices, the gateways of a
 * number), with what the CDR says of it if the call is answered or ends there.
 */
export interface CallStage {
  /** Tried in parallel (the first answer wins), or one after the other with `serial`. */
  targets: RingTarget[];
  serial?: boolean;
  /** From and To of the B leg. */
  from: string;
  to: string;
  calleeSubscriberId?: string | undefined;
  calleeCustomerId?: string | undefined;
  calleeRouted: string;
  /** Caller as routed on this stage's B leg (for the CDR); default: the plan's. */
  callerRouted?: string | undefined;
  /** Seconds this stage rings before its forks are cancelled (a 480 unless the route goes on). */
  ringTimeoutS: number;
  /** The call forward that led to this stage, for the CDR. */
  forwardedFrom?: string | undefined;
  forwardType?: CdrEnd['forwardType'];
  /**
   * A call forward to the phone network is paid by the forwarding subscriber (docs/billing.md,
   * "Forwarded calls"): who that is for the CDR, and its prepaid credit for this leg (the call is
   * cut when it runs out, as a prepaid caller's own call).
   */
  payer?: { subscriberId: string; customerId: string; credit?: CreditGrant | undefined } | undefined;
}

/** How one stage ended when nobody answered. */
export interface StageFailure {
  kind: 'failed';
  /** What the caller would get if the route stops here (RFC 3261 §16.7 step 6 choice). */
  status: number;
  reason: string;
  /** The stage's ring timeout expired (its forks were cancelled). */
  timedOut: boolean;
  /** Every fork's final status. */
  statuses: number[];
  /** Retry-After for the caller (seconds): every gateway was refused by its admission limits. */
  retryAfter?: number | undefined;
  /** The challenge the caller gets with the failure (`LegFailure.challenge`). */
  challenge?: Record<string, string> | undefined;
}

/** A stage was answered (the call is bridged) or the call ended meanwhile: the route stops. */
export type RingOutcome = { kind: 'answered' } | { kind: 'ended' } | StageFailure;

export interface CallPlan extends CallStage {
  callerProfile: LegProfile;
  /** The caller is a peer: the headers of in-dialog requests and responses sent back to it. */
  callerDialog?: InDialogHeaders | undefined;
  /** The caller is a peer: its inbound header rules on its own in-dialog requests. */
  callerFromPeer?: ReceivedHeaders | undefined;
  /** The caller is a peer that signals DTMF with SIP INFO: the callee's RFC 4733 keys reach it as INFO. */
  callerDtmfInfo?: boolean | undefined;
  /**
   * The caller is refused with `status` and these headers (a relayed challenge, Retry-After), before
   * the answer is sent: a fronted phone's credentials refused by its PBX count towards its ban.
   */
  onRefused?: ((status: number, headers: Record<string, string>) => Promise<void>) | undefined;
  cdr: CdrStart;
  callerRouted: string;
  /**
   * The caller's identity is withheld from the callee (CLIR, a peer's Privacy header): every SDP sent
   * towards the callee loses its origin username, which the caller's phone may have filled with its
   * user name.
   */
  withheld?: boolean | undefined;
  /** Seconds an answered call may last; undefined: unlimited. */
  maxDurationS?: number | undefined;
  /** A prepaid call's credit (calls/credit.ts): cut with `balance-exhausted` when it runs out. */
  credit?: CreditGrant | undefined;
  /**
   * Runs the stages of the call (call forwarding, see forwarding.ts) and resolves with the last
   * stage's outcome; default: the plan itself is the only stage.
   */
  route?: ((call: Call) => Promise<RingOutcome>) | undefined;
}

export type CallState = 'trying' | 'early' | 'answered' | 'ended';

/**
 * A media session of ours facing the caller: its SDP answer, its end, and the keys the caller signals
 * in SIP (INFO) fed into the same handling as the RFC 4733 events it reads itself.
 */
export interface LocalMediaSession {
  answer: string;
  close(): void;
  pressDigit(digit: string): void;
}

/**
 * An application of ours that answers the call itself with media of its own (voicemail, later an
 * auto attendant): `open` takes the relay's offer and returns the session with its answer (throws
 * when it cannot take the offer: 488); `run` plays, records and collects digits until it is done or
 * the session is closed (the caller hung up).
 */
export interface LocalMediaApp<S extends LocalMediaSession = LocalMediaSession> {
  open(offer: string): Promise<S>;
  run(session: S): Promise<void>;
}

/** A media application of ours played as early media (`Call.earlyMedia`): it decides, then the route rings. */
export interface EarlyMediaApp<S extends LocalMediaSession, R> {
  open(offer: string): Promise<S>;
  run(session: S): Promise<R>;
}

/** What the live-state API shows of a call. */
export interface ActiveCallInfo {
  callId: string;
  state: CallState;
  direction: CdrStart['direction'];
  caller: string;
  callee: string;
  callerSubscriberId?: string | undefined;
  calleeSubscriberId?: string | undefined;
  /** The callee is shown an anonymous caller (see `CdrStart.callerWithheld`). */
  callerWithheld: boolean;
  startedAt: Date;
  answeredAt?: Date | undefined;
  /** Voice codecs of the last answer, the one in use first (`PCMA/8000`); empty before an answer. */
  codecs: string[];
  /** NG address of the media relay holding the call; null when media is not anchored. */
  relay: string | null;
}

/** Final response to the caller when every fork failed (RFC 3261 §16.7 step 6, simplified). */
export function bestFailure(failures: Array<{ status: number; reason: string }>): {
  status: number;
  reason: string;
} {
  const sixXx = failures.find((f) => f.status >= 600);
  if (sixXx) return sixXx;
  const busy = failures.find((f) => f.status === 486);
  if (busy) return busy;
  const meaningful = failures.find((f) => f.status !== 408 && f.status !== 487 && f.status < 500);
  if (meaningful) return meaningful;
  if (failures.every((f) => f.status === 408 || f.status === 487))
    return { status: 480, reason: 'Temporarily Unavailable' };
  return failures[0] ?? { status: 480, reason: 'Temporarily Unavailable' };
}

/**
 * How a round of ringing failed: serial forks (gateways in LCR order) end with the last one's answer,
 * a 408 of the last gateway becoming 480; parallel forks with the best failure; a round cut by its
 * ring timeout with 480.
 */
export function stageFailure(failures: LegFailure[], serial: boolean, timedOut: boolean): StageFailure {
  let failure: LegFailure;
  if (timedOut) failure = { status: 480, reason: 'Temporarily Unavailable' };
  else if (serial) {
    const last = failures.at(-1) ?? { status: 480, reason: 'Temporarily Unavailable' };
    failure = last.status === 408 ? { status: 480, reason: last.reason } : last;
  } else failure = bestFailure(failures);
  const { status, reason } = failure;
  // Retry-After only when every fork was refused by our own limits: then the caller may come back.
  const retryAfter =
    failures.length > 0 && failures.every((f) => f.retryAfter) ? failure.retryAfter : undefined;
  const challenge = timedOut ? undefined : failure.challenge;
  return {
    kind: 'failed',
    status,
    reason,
    timedOut,
    statuses: failures.map((f) => f.status),
    retryAfter,
    ...(challenge ? { challenge } : {}),
  };
}

/** CDR disposition of a final response. */
export function dispositionOf(status: number): CallDisposition {
  if (status >= 200 && status < 300) return 'answered';
  if (status === 486 || status === 600) return 'busy';
  if (status === 480 || status === 408) return 'no_answer';
  if (status === 487) return 'cancelled';
  // 603 Decline, 604/606: the callee's explicit refusal (RFC 3261 §21.6), not a platform failure.
  if (status >= 600) return 'rejected';
  return 'failed';
}
