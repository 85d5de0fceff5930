import type { MediaRelay } from '@switchboard/media';
import { liveGauge, METRIC_NAMES, type MetricsRegistry } from '@switchboard/metrics';
import type { ActiveCalls } from './calls/active-calls.ts';
import type { LocationService } from './location/location-service.ts';

const DIRECTIONS = ['internal', 'inbound', 'outbound'] as const;
const LIVE_STATES = ['trying', 'early', 'answered'] as const;

/**
 * sip-core's live state as gauges, read at scrape time: calls in progress, registered AORs and devices,
 * and the rtpengine instances. Returns the function that detaches them (close()).
 */
export function sipCoreGauges(
  registry: MetricsRegistry,
  state: { calls: ActiveCalls; location: LocationService; media: MediaRelay },
): () => void {
  const { calls, location, media } = state;
  const detach = [
    liveGauge(
      registry,
      METRIC_NAMES.callsActive,
      'Calls in progress, by direction and state',
      ['direction', 'state'],
      () => {
        // Every combination is reported, zeros included, so a dashboard sees 0 rather than no data.
        const counts = new Map<string, number>();
        for (const direction of DIRECTIONS)
          for (const state of LIVE_STATES) counts.set(`${direction} ${state}`, 0);
        for (const call of calls.list()) {
          const key = `${call.direction} ${call.state}`;
          const n = counts.get(key);
          if (n !== undefined) counts.set(key, n + 1);
        }
        return [...counts].map(([key, value]) => {
          const [direction = '', state = ''] = key.split(' ');
          return { labels: { direction, state }, value };
        });
      },
    ),
    liveGauge(
      registry,
      METRIC_NAMES.registeredAors,
      'Addresses of record with a binding',
      [],
      () => location.aorCount,
    ),
    liveGauge(
      registry,
      METRIC_NAMES.registeredDevices,
      'Registered contacts (devices)',
      [],
      () => location.bindingCount,
    ),
    liveGauge(
      registry,
      METRIC_NAMES.rtpengineUp,
      '1 when the rtpengine instance answers its health check',
      ['rtpengine'],
      () => media.health().map((i) => ({ labels: { rtpengine: i.address }, value: i.healthy ? 1 : 0 })),
    ),
    liveGauge(
      registry,
      METRIC_NAMES.rtpengineSessions,
      'Calls this sip-core has anchored on the rtpengine instance',
      ['rtpengine'],
      () => media.health().map((i) => ({ labels: { rtpengine: i.address }, value: i.calls })),
    ),
  ];
  return () => {
    for (const d of detach) d();
  };
}
