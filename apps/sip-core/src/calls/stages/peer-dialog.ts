import type { CodecPolicy } from '@switchboard/media';
import { callingPeerDialog, receivedFromPeer } from '../../sbc/towards-peer.ts';
import { type Middleware, parsedOf } from '../../sip/request.ts';
import type { InvitePlan } from '../plan.ts';
import { type InviteDeps, planOf } from './deps.ts';

/**
 * INVITE stage after `resolve`, for a call from a peer (docs/sbc.md): the session border
 * controller's part of the dialog with the calling carrier, once the called domain is known.
 * - Codec policy: the gateway's, else its group's, else the called domain's fields shape the offers
 *   the carrier makes (its INVITE and its re-offers) towards the subscriber's devices (RFC 3264 §5:
 *   the relay rewrites the offer; `LegProfile.offerCodecs`), and the phones' re-offers towards the
 *   carrier as on a call to it (`LegProfile.codecs`). Its `dtmfInfo` stays with the INFO handling
 *   (the phones' RFC 4733 keys become INFO towards the carrier, `callerDtmfInfo`, for which they are
 *   offered telephone-event); `ptime` applies towards the carrier only (its own SDP states its packetisation).
 * - Header rules: the outbound rules bound to the gateway, its group and the domain run on every
 *   in-dialog request and response sent back to the carrier (BYE, re-INVITE, UPDATE), with topology
 *   hiding as towards any peer; the inbound rules bound to the same run on the carrier's own
 *   in-dialog requests before anything of them crosses to the other side (towards-peer.ts).
 */
export function peerDialog(deps: Pick<InviteDeps, 'sbc'>): Middleware {
  return (req, _res, next) => {
    const peer = req.locals.source.peer;
    const sbc = deps.sbc;
    const plan = planOf(req);
    if (!sbc || !peer || plan.kind !== 'inbound') return next();
    const domain = calledDomain(plan);
    const codecs = sbc.policyOf(peer.gatewayId, peer.groupId, domain).codecs;
    const offerCodecs = codecs && ownOffers(codecs);
    const towardsPeer = codecs && withoutInfo(codecs);
    if (offerCodecs) plan.callerProfile = { ...plan.callerProfile, offerCodecs };
    // The phones' re-offers towards the carrier, as on a call to it.
    if (towardsPeer) plan.callerProfile = { ...plan.callerProfile, codecs: towardsPeer };
    // A carrier that wants DTMF as INFO: the callee's RFC 4733 keys become INFO towards it.
    if (codecs?.dtmfInfo) plan.callerDtmfInfo = true;
    plan.callerDialog = callingPeerDialog(sbc, peer, {
      caller: plan.callerNumber,
      callee: plan.refused.calleeRouted,
      domain,
    });
    const parsed = parsedOf(req);
    plan.callerFromPeer = receivedFromPeer(sbc.rulesFor('inbound', peer, domain), {
      direction: 'inbound',
      sourceAddress: req.locals.source.address,
      caller: parsed.from.uri.kind === 'sip' ? parsed.from.uri.userText : undefined,
      callee: parsed.requestUri.userText,
    });
    next();
  };
}

function calledDomain(plan: InvitePlan): string | undefined {
  return plan.callee?.subscriber.domain ?? plan.huntGroup?.group.domain;
}

/** The policy without `dtmfInfo`, which the INFO handling of the call reads (none left: undefined). */
function withoutInfo(policy: CodecPolicy): CodecPolicy | undefined {
  const { dtmfInfo: _info, ...rest } = policy;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

/**
 * The policy fields that shape a carrier's own offers (none of them: undefined). A carrier that
 * signals DTMF with INFO gets the phones offered RFC 4733 events (`dtmfEvents`: added when its offer
 * lacks them), so that the relay sees their keys and the call sends them to the carrier as INFO.
 */
function ownOffers(policy: CodecPolicy): CodecPolicy | undefined {
  const { dtmfInfo, ptime: _ptime, ...rest } = policy;
  const shaping: CodecPolicy = dtmfInfo ? { ...rest, dtmfEvents: true } : rest;
  return Object.keys(shaping).length > 0 ? shaping : undefined;
}
