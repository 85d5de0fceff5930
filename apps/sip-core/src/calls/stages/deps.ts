import type { DtmfFeed, MediaRelay } from '@switchboard/media';
import type { NumberingIndex } from '@switchboard/numbering';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { AttendantMedia } from '../../attendant/attendant-media.ts';
import type { CdrWriter } from '../../cdr/cdr-writer.ts';
import type { Directory } from '../../directory/directory.ts';
import type { LocationService } from '../../location/location-service.ts';
import type { CallRecorder } from '../../recording/call-recorder.ts';
import type { SbcIndex } from '../../sbc/sbc-index.ts';
import type { EngineTraits } from '../../sip/engine-traits.ts';
import type { IncomingRequest, SendOptions, SipResponse } from '../../sip/request.ts';
import type { Voicemail } from '../../voicemail/voicemail.ts';
import type { WholesaleIndex } from '../../wholesale/wholesale-index.ts';
import type { ActiveCalls } from '../active-calls.ts';
import type { CallDeps } from '../call.ts';
import type { CallForwards } from '../call-forwards.ts';
import { dispositionOf } from '../call-types.ts';
import type { CallsConfig } from '../calls-config.ts';
import type { ClusterRoutes } from '../cluster-route.ts';
import type { CallCredit } from '../credit.ts';
import type { DeviceWaker } from '../devices.ts';
import type { GatewayCredentials } from '../gateway-credentials.ts';
import type { HuntGroups } from '../hunt-groups.ts';
import type { InvitePlan } from '../plan.ts';
import type { GatewayHealthView } from '../pstn.ts';

/** What the INVITE stages share, built once per process. Nothing here reads a table per call. */
export interface InviteDeps {
  srf: Srf;
  media: MediaRelay;
  cdr: CdrWriter;
  directory: Directory;
  /** Call forwards of every subscriber, held in memory. */
  forwards: CallForwards;
  /** Hunt groups of every customer, held in memory; unset: none are callable. */
  huntGroups?: HuntGroups | undefined;
  location: LocationService;
  /** Outbound credentials of the peer gateways, held in memory. */
  gateways: GatewayCredentials;
  /** The gateways' health checks: LCR skips a gateway that is down. */
  health?: GatewayHealthView | undefined;
  calls: ActiveCalls;
  /** Number mapping and LCR; without it only usernames are callable. */
  numbering?: NumberingIndex | undefined;
  config: CallsConfig;
  /** The connected engine's traits (sip/engine-traits.ts); default: ours. */
  engine?: EngineTraits;
  log: Logger;
  /** Header rules, topology hiding and peer limits, held in memory (docs/sbc.md); unset: none. */
  sbc?: SbcIndex | undefined;
  /** Voicemail boxes and their media (docs/pbx.md#voicemail); unset: voicemail destinations fail. */
  voicemail?: Voicemail | undefined;
  /** Call recording (docs/pbx.md); unset: no call is recorded. */
  recorder?: CallRecorder | undefined;
  /** Auto-attendants and their menus' media (docs/pbx.md#auto-attendant); unset: none are callable. */
  attendants?: AttendantMedia | undefined;
  /** The relay's DTMF feed: a caller's RFC 4733 keys become INFO towards a `dtmfInfo` peer; unset: none. */
  dtmfFeed?: DtmfFeed | undefined;
  /** Wakes push bindings without a live flow (RFC 8599 §7); unset: they are rung like any other. */
  push?: DeviceWaker | undefined;
  /** Customers' routing plans, margin protection and credit limits (docs/billing.md); unset: none. */
  wholesale?: Pick<WholesaleIndex, 'routesFor' | 'overCreditLimit'> | undefined;
  /** Devices registered on other nodes are reached through them (cluster-route.ts); unset: one node. */
  cluster?: ClusterRoutes | undefined;
  /** Prepaid credit and spend limits of calls to the PSTN (calls/credit.ts); unset: not checked. */
  credit?: CallCredit | undefined;
}

/** The plan `classify` started; only the stages after it may call it. */
export function planOf(req: IncomingRequest): InvitePlan {
  const plan = req.locals.invite;
  if (!plan) throw new Error('INVITE stage order: classify must run before this stage');
  return plan;
}

/**
 * Refuses a call before any B leg: the final response, and the attempt's CDR row with what the stages
 * learned so far (every attempt is recorded).
 */
export async function refuse(
  deps: Pick<InviteDeps, 'cdr'>,
  res: SipResponse,
  plan: InvitePlan,
  status: number,
  reason: string,
  options?: SendOptions,
): Promise<void> {
  res.send(status, reason, options);
  await deps.cdr.finish(undefined, plan.cdr, {
    ...plan.refused,
    endedAt: new Date(),
    disposition: dispositionOf(status),
    sipCode: status,
    sipReason: reason,
  });
}

/** What a `Call` started from the INVITE chain needs: one place, so every kind of call gets the same. */
export function callDeps(
  deps: Pick<InviteDeps, 'srf' | 'media' | 'cdr' | 'calls' | 'log' | 'engine'> &
    Partial<Pick<InviteDeps, 'recorder' | 'cluster' | 'dtmfFeed'>>,
): CallDeps {
  return {
    srf: deps.srf,
    media: deps.media,
    cdr: deps.cdr,
    log: deps.log,
    recorder: deps.recorder,
    dtmfFeed: deps.dtmfFeed,
    ...(deps.engine ? { engine: deps.engine } : {}),
    cluster: deps.cluster,
    onState: (call) => deps.calls.changed(call),
  };
}
