import { parseTableChange } from '@switchboard/db';
import type { CallForwards } from './calls/call-forwards.ts';
import type { SipCoreServices } from './chains.ts';

/**
 * Applies one `CHANGES_CHANNEL` notification to the caches: domains, subscribers and customers to
 * the directory, `ip_bans` to the ban list (other tables are someone else's).
 */
export function tableChangeHandler(
  services: Pick<SipCoreServices, 'directory' | 'bans' | 'log'> & {
    forwards?: CallForwards;
    pushCredentials?: { forget(): void };
    settings?: { load(): Promise<void> };
  },
): (payload: string) => void {
  const { directory, bans, forwards, pushCredentials, settings, log } = services;
  return (payload) => {
    const change = parseTableChange(payload);
    if (!change) return;
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
