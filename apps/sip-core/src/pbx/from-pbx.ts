import { profiles } from '@switchboard/media';
import { bindingTarget } from '../calls/plan.ts';
import type { Directory } from '../directory/directory.ts';
import type { IncomingRequest } from '../sip/request.ts';
import { flowTokenOf } from './front-call.ts';
import { type FlowTokens, flowBinding } from './fronted-flows.ts';

/** Where a request the PBX routed to one of its phones goes: the phone's Contact over its flow. */
export interface PhoneTarget {
  uri: string;
  proxy: string | undefined;
}

/**
 * A request from a fronted domain's PBX (its gateway's source address) with one of our flow tokens in
 * its Route (our Path) or Request-URI (our Contact): the phone's target; `refused` when the token does
 * not open or belongs to a domain another gateway fronts (answer 404); undefined when the request is
 * not the PBX's for a phone (the platform's own chain takes it).
 */
export function phoneTargetOf(
  deps: { directory: Pick<Directory, 'upstreamPbx'>; tokens: FlowTokens; nodeName: string },
  req: IncomingRequest,
): PhoneTarget | 'refused' | undefined {
  const token = flowTokenOf(req);
  const peer = req.locals.source.peer;
  if (!token || !peer) return undefined;
  const flow = deps.tokens.open(token);
  const domain = flow?.aor.split('@')[1] ?? '';
  if (!flow || deps.directory.upstreamPbx(domain)?.gatewayId !== peer.gatewayId) return 'refused';
  const target = bindingTarget(flowBinding(flow, deps.nodeName), profiles.natSubscriber);
  return { uri: target.uri, proxy: target.proxy };
}
