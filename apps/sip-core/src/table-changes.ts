import { parseTableChange } from '@switchboard/db';
import type { Logger } from 'pino';
import type { ActiveCalls } from './calls/active-calls.ts';
import type { CallForwards } from './calls/call-forwards.ts';
import type { GatewayCredentials } from './calls/gateway-credentials.ts';
import type { SipCoreServices } from './chains.ts';
import { SBC_TABLES } from './sbc/sbc-index.ts';

/**
 * Applies one `CHANGES_CHANNEL` notification to the caches: domains, subscribers and customers (with
 * their call limits) to the directory, `ip_bans` to the ban list, `peer_gateways` to the gateways'
 * credentials, header rules and peer policies to the SBC index (routing itself follows the numbering tables in the numbering index; other tables are
 * someone else's).
 */
export function tableChangeHandler(
  services: Pick<SipCoreServices, 'directory' | 'bans' | 'log'> & {
    forwards?: CallForwards;
    gateways?: Pick<GatewayCredentials, 'onGatewayChanged'>;
    pushCredentials?: { forget(): void };
    settings?: { load(): Promise<void> };
    /** Header rules and peer policies (sbc/sbc-index.ts): any change of theirs reloads them. */
    sbc?: { onChanged(): Promise<void> };
  },
): (payload: string) => void {
  const { directory, bans, forwards, gateways, pushCredentials, settings, sbc, log } = services;
  return (payload) => {
    const change = parseTableChange(payload);
    if (!change) return;
    if (sbc && SBC_TABLES.includes(change.table))
      sbc
        .onChanged()
        .catch((error: unknown) => log.error({ err: error, change }, 'reloading the SBC rules failed'));
    const id = change.op === 'truncate' ? null : change.id;
    let work: Promise<void> | undefined;
    switch (change.table) {
      case 'domains':
        work = directory.onDomainChanged(id);
        break;
      case 'subscribers':
        work = directory.onSubscriberChanged(id);
        break;
      case 'customers':
        work = directory.onCustomerChanged(id);
        break;
      case 'ip_bans':
        work = bans.onBanChanged(id);
        break;
      case 'call_forwards':
        work = forwards?.onForwardChanged(id);
        break;
      case 'call_forward_destinations':
        work = forwards?.onDestinationChanged(id);
        break;
      case 'peer_gateways':
        work = gateways?.onGatewayChanged(id);
        break;
      // Uploaded, replaced or deleted push credentials apply from the next push on.
      case 'push_credentials':
        pushCredentials?.forget();
        break;
      // An operator changed a setting: applied from the next request on, no restart.
      case 'settings':
        work = settings?.load();
        break;
    }
    work?.catch((error: unknown) => log.error({ err: error, change }, 'applying a change failed'));
  };
}

/**
 * The API's hang-up requests (`{"callId":...}` on CALL_CONTROL_CHANNEL): the node handling the call ends
 * it; the others do not know the Call-ID and ignore it.
 */
export function callControlHandler(calls: ActiveCalls, log: Logger): (payload: string) => void {
  return (payload) => {
    let callId: unknown;
    try {
      callId = (JSON.parse(payload) as { callId?: unknown }).callId;
    } catch {
      return;
    }
    if (typeof callId !== 'string') return;
    if (calls.hangUp(callId, 'Hung up through the API')) log.info({ callId }, 'call hung up through the API');
  };
}
