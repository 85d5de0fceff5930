import { parseTableChange } from '@switchboard/db';
import type { Logger } from 'pino';
import type { ActiveCalls } from './calls/active-calls.ts';
import type { CallForwards } from './calls/call-forwards.ts';
import type { GatewayCredentials } from './calls/gateway-credentials.ts';
import type { HuntGroups } from './calls/hunt-groups.ts';
import type { SipCoreServices } from './chains.ts';
import { SBC_TABLES } from './sbc/sbc-index.ts';
import type { TrunkManager } from './trunks/trunks.ts';

/**
 * Applies one `CHANGES_CHANNEL` notification to the caches: domains, subscribers and customers (with
 * their call limits) to the directory, `ip_bans` to the ban list, `peer_gateways` to the gateways'
 * credentials, header rules and peer policies to the SBC index (routing itself follows the numbering tables in the numbering index; other tables are
 * someone else's).
 */
export function tableChangeHandler(
  services: Pick<SipCoreServices, 'directory' | 'bans' | 'log'> & {
    forwards?: CallForwards;
    huntGroups?: Pick<HuntGroups, 'load' | 'onGroupChanged' | 'onMemberChanged'>;
    gateways?: Pick<GatewayCredentials, 'onGatewayChanged'>;
    /** Trunk registrations and health checks follow their gateway's settings. */
    trunks?: Pick<TrunkManager, 'onGatewayChanged'>;
    pushCredentials?: { forget(): void };
    settings?: { load(): Promise<void> };
    /** Header rules and peer policies (sbc/sbc-index.ts): any change of theirs reloads them. */
    sbc?: { onChanged(): Promise<void> };
    /** An auto-attendant or its menu changed: all are reloaded. */
    attendants?: { onChanged(): Promise<void> };
    /** A voicemail box's messages changed (the id is the box's subscriber): counts and MWI. */
    voicemail?: { onChanged(subscriberId: string | null): Promise<void> };
  },
): (payload: string) => void {
  const {
    directory,
    bans,
    forwards,
    huntGroups,
    gateways,
    trunks,
    pushCredentials,
    settings,
    sbc,
    voicemail,
    attendants,
    log,
  } = services;
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
        // A hunt group is keyed by its domain's name too.
        work = Promise.all([directory.onDomainChanged(id), huntGroups?.load(), attendants?.onChanged()]).then(
          () => {},
        );
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
      case 'hunt_groups':
        work = huntGroups?.onGroupChanged(id);
        break;
      case 'hunt_group_members':
        work = huntGroups?.onMemberChanged(id);
        break;
      case 'peer_gateways':
        work = Promise.all([gateways?.onGatewayChanged(id), trunks?.onGatewayChanged(id)]).then(() => {});
        break;
      // Uploaded, replaced or deleted push credentials apply from the next push on.
      case 'push_credentials':
        pushCredentials?.forget();
        break;
      // An operator changed a setting: applied from the next request on, no restart.
      case 'settings':
        work = settings?.load();
        break;
      case 'auto_attendants':
      case 'auto_attendant_options':
        work = attendants?.onChanged();
        break;
      case 'voicemail_messages':
        work = voicemail?.onChanged(id);
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
