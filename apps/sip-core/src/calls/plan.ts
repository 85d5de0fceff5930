import type { SrtpPolicy } from '@switchboard/db';
import type { LegProfile } from '@switchboard/media';
import type { CdrEnd, CdrStart } from '../cdr/cdr-writer.ts';
import type { CachedSubscriber, UpstreamPbx } from '../directory/directory.ts';
import type { Binding } from '../location/binding.ts';
import type { PeerLegFactory } from '../sbc/towards-peer.ts';
import type { CachedAttendant } from './attendants.ts';
import type {
  CallStage,
  CallTarget,
  CreditGrant,
  InDialogHeaders,
  ReceivedHeaders,
  RingTarget,
} from './call-types.ts';
import type { CachedHuntGroup } from './hunt-groups.ts';
import type { Party } from './party.ts';
import type { PstnRoute } from './pstn.ts';

/**
 * The typed plan of a new call, filled by the INVITE stages in chain order (docs/calls.md, "Stages of
 * a new call"). Each stage reads what the earlier ones wrote and adds its own section; `connect` hands
 * the finished plan to `Call`. A later feature (voicemail, push, header rules, billing) is one more
 * stage reading and writing this plan.
 */
export interface InvitePlan {
  /** classify: which kind of call, and who calls. */
  kind: 'internal' | 'inbound' | 'outbound';
  /** The CDR row's start; stages complete it (customer, withheld caller) before the row is written. */
  cdr: CdrStart;
  /** Media profile of the caller's leg (peer-dialog: a calling carrier's codec policy). */
  callerProfile: LegProfile;
  /** peer-dialog: the headers of in-dialog requests and responses sent back to a calling peer. */
  callerDialog?: InDialogHeaders | undefined;
  /** peer-dialog: the calling peer's inbound header rules on its own in-dialog requests. */
  callerFromPeer?: ReceivedHeaders | undefined;
  /** peer-dialog: the calling peer signals DTMF with SIP INFO (its policy's `dtmfInfo`). */
  callerDtmfInfo?: boolean | undefined;
  /** The authenticated calling subscriber (internal and outbound calls). */
  caller?: CachedSubscriber | undefined;
  /** An inbound call's caller number, made ours by the peer's `inbound_from_peer` rules. */
  callerNumber?: string | undefined;
  /** classify: what the Request-URI addresses once the caller's numbering rules ran. */
  destination: Destination;
  /** What a refused call's CDR reports, filled in as the stages learn it. */
  refused: Partial<CdrEnd>;
  /** resolve: the subscriber the call rings (with its forwards), or the gateways of a PSTN number. */
  callee?: ResolvedCallee | undefined;
  /** resolve: the hunt group the call rings (its members are chosen when it rings, hunt-route.ts). */
  huntGroup?: { group: CachedHuntGroup; aor: string } | undefined;
  /** resolve: the auto-attendant the call reaches (its menu chooses where it rings, attendant-stage.ts). */
  attendant?: { attendant: CachedAttendant; aor: string } | undefined;
  pstn?: PstnRoute | undefined;
  /** admit: the parties the call counts for, and its duration cap. */
  admitted?: Admitted | undefined;
  /** present: what the callee's side is shown, and the B leg(s) of an outbound call. */
  presented?: Presented | undefined;
  /**
   * wake: the ring targets of a subscriber's devices for this call (push bindings without a live
   * flow are woken first); unset: every binding is rung where it registered from.
   */
  devices?: ((bindings: Binding[], srtp: SrtpPolicy) => RingTarget[]) | undefined;
  /** present: the session border controller's part of every gateway leg of this call (docs/sbc.md). */
  peerLeg?: PeerLegFactory | undefined;
}

/**
 * The Request-URI after the caller's rules: a subscriber of ours (by username or one of its DIDs,
 * `undefined` when nobody matched), a hunt group of ours (by its user part), a PSTN number that is
 * not ours, or a user of a domain an upstream PBX serves (docs/sbc.md, "Fronting a PBX").
 */
export type Destination =
  | { kind: 'subscriber'; subscriber: CachedSubscriber | undefined; number?: string | undefined }
  | { kind: 'huntGroup'; group: CachedHuntGroup }
  | { kind: 'attendant'; attendant: CachedAttendant }
  | { kind: 'pstn'; e164: string }
  | { kind: 'pbx'; pbx: UpstreamPbx; user: string; domain: string };

export interface ResolvedCallee {
  subscriber: CachedSubscriber;
  aor: string;
  /** The DID the callee was reached by, when it was not addressed by its username. */
  number?: string | undefined;
  /** Its current bindings, and their ring targets (the first round of ringing; its forwards may add others). */
  bindings: Binding[];
  targets: RingTarget[];
}

export interface Admitted {
  /**
   * Gives back the room the call holds in its parties' limits and, for a peer's call, in its
   * gateway's and peering group's (see ActiveCalls); once, at its end.
   */
  release: () => void;
  callerParty?: Party | undefined;
  calleeParty?: Party | undefined;
  maxDurationS?: number | undefined;
  /** credit: a prepaid call's reserved credit (stages/credit.ts). */
  credit?: CreditGrant | undefined;
}

/** The caller a forward to the PSTN presents: its number (E.164) and whether it asked for CLIR. */
export interface OriginalCaller {
  number: string;
  clir: boolean;
}

export interface Presented {
  /** From and To of the B leg. */
  from: string;
  to: string;
  /** Caller as routed on the B leg (for the CDR). */
  callerRouted: string;
  /** The caller is withheld from the callee (see `CallPlan.withheld`). */
  withheld: boolean;
  /** Presented again when the callee forwards the call to the PSTN. */
  originalCaller?: OriginalCaller | undefined;
  /** An outbound call's B legs: the route's gateways with the identity they are given. */
  leg?: Omit<CallStage, 'ringTimeoutS'> | undefined;
}

/** A stage's section of the plan, which an earlier stage must have filled. */
export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`INVITE stage order: ${what} is not in the plan yet`);
  return value;
}

/** Where to send a request for a binding: its NAT-facing source address and transport. */
export function bindingTarget(binding: Binding, profile: LegProfile): CallTarget {
  const host = binding.receivedAddress.includes(':')
    ? `[${binding.receivedAddress}]`
    : binding.receivedAddress;
  return {
    uri: binding.contactUri,
    proxy: `sip:${host}:${binding.receivedPort};transport=${binding.transport === 'wss' ? 'wss' : binding.transport}`,
    profile,
    heldBy: {
      node: binding.node,
      flow: { transport: binding.transport, address: binding.receivedAddress, port: binding.receivedPort },
    },
  };
}
