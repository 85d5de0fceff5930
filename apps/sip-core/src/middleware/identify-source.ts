import type { BanService } from '../access/ban-service.ts';
import type { BindingTransport } from '../location/binding.ts';
import { canonicalAddress } from '../net/address.ts';
import type { Middleware } from '../sip/request.ts';

const TRANSPORTS = new Set<BindingTransport>(['udp', 'tcp', 'tls', 'ws', 'wss']);

/**
 * First stage: who sent this? The packet's source address, port and transport as the engine saw
 * them (never the Via, which the sender writes), and whether it is a configured trusted source.
 */
export function identifySource(bans: BanService): Middleware {
  return (req, _res, next) => {
    const address = canonicalAddress(req.source_address);
    const protocol = (req.protocol ?? 'udp').toLowerCase() as BindingTransport;
    req.locals = {
      source: {
        address,
        port: req.source_port,
        transport: TRANSPORTS.has(protocol) ? protocol : 'udp',
        trusted: bans.isTrusted(address),
      },
    };
    next();
  };
}
