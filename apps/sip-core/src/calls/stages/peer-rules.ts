import { applyHeaderRules } from '@switchboard/numbering';
import { parseUri } from '@switchboard/sip';
import { type Middleware, parsedOf } from '../../sip/request.ts';
import type { InviteDeps } from './deps.ts';

/**
 * First INVITE stage for a call from a peer: the inbound header rules bound to its gateway, its
 * peering group and the called domain (docs/sbc.md, "Header rules"), before the call is classified.
 * What they leave is what every later stage reads: the headers (`get`) and the Request-URI the
 * call is routed by. The CDR keeps the Request-URI as the peer sent it. A rewritten Request-URI that
 * is not a SIP URI any more is a rule's mistake: the call goes on with the original, and it is logged.
 */
export function peerRules(deps: Pick<InviteDeps, 'sbc' | 'log'>): Middleware {
  return (req, _res, next) => {
    const peer = req.locals.source.peer;
    const sbc = deps.sbc;
    if (!sbc || !peer || !req.headerEntries || !req.replaceHeaders) return next();
    const parsed = parsedOf(req);
    const domain = parsed.requestUri.hostType === 'domain' ? parsed.requestUri.host : undefined;
    const rules = sbc.rulesFor('inbound', peer, domain);
    if (rules.length === 0) return next();
    const { message } = applyHeaderRules(
      rules,
      { method: req.method, requestUri: req.uri, headers: req.headerEntries() },
      {
        direction: 'inbound',
        sourceAddress: req.locals.source.address,
        caller: parsed.from.uri.kind === 'sip' ? parsed.from.uri.userText : undefined,
        callee: parsed.requestUri.userText,
      },
    );
    req.replaceHeaders(message.headers);
    if (message.requestUri !== req.uri) {
      const uri = safeParse(message.requestUri);
      if (uri?.kind === 'sip') parsed.requestUri = uri;
      else
        deps.log.warn(
          { uri: message.requestUri, gateway: peer.gatewayId },
          'header rule made a bad Request-URI',
        );
    }
    next();
  };
}

function safeParse(text: string): ReturnType<typeof parseUri> | undefined {
  try {
    return parseUri(text);
  } catch {
    return undefined;
  }
}
