import { networkInterfaces } from 'node:os';
import type { Config } from '@switchboard/config';
import { type ResolvedMedia, resolveMediaConfig } from '@switchboard/media';
import type { Logger } from 'pino';
import type { Component, ComponentHealth } from '../component.ts';

/**
 * The media relay: the rtpengine pool from RTPENGINE_NG, or a local rtpengine child, or no anchoring at all
 * when rtpengine is not installed (packages/media decides and warns once).
 */
export function mediaComponent(
  config: Config,
  logger: Logger,
  onReady: (media: ResolvedMedia) => void,
): Component {
  return {
    name: 'media',
    async start() {
      const resolved = await resolveMediaConfig(config.rtpengineNg, logger.child({ component: 'media' }), {
        local: {
          portMin: config.rtpPorts.min,
          portMax: config.rtpPorts.max,
          interface: localMediaInterface(config.sipAdvertisedAddress),
          dataDir: config.dataDir,
          // RTPENGINE_DTMF_LISTEN: the DTMF events go to sip-core (RFC 4733 keys to SIP INFO).
          ...(config.rtpengineDtmfListen
            ? { dtmfLogDest: `${config.rtpengineDtmfListen.host}:${config.rtpengineDtmfListen.port}` }
            : {}),
        },
      });
      onReady(resolved);
      logger.info({ mode: resolved.mode, ng: resolved.ngAddresses }, 'media relay ready');
      return {
        health: () => mediaHealth(resolved),
        stop: () => resolved.stop(),
      };
    },
  };
}

function mediaHealth(resolved: ResolvedMedia): ComponentHealth {
  if (resolved.mode === 'none')
    return { status: 'disabled', detail: 'rtpengine not installed: no media anchoring' };
  const instances = resolved.media.health();
  const healthy = instances.filter((i) => i.healthy).length;
  return {
    status: healthy > 0 ? 'up' : 'down',
    detail: `${resolved.mode}: ${healthy}/${instances.length} rtpengine healthy`,
  };
}

/**
 * rtpengine must bind a local address. When the advertised address is one of ours, media goes there too
 * (a loopback-only test platform, a host with a public address); otherwise the host is behind 1:1 NAT and
 * rtpengine binds the first local IPv4 address and writes the advertised one into SDP (`local!advertised`).
 */
export function localMediaInterface(advertised: string | undefined): string {
  const local: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4') local.push(a.address);
  }
  if (advertised && local.includes(advertised)) return advertised;
  const firstPublic = local.find((a) => !a.startsWith('127.')) ?? '127.0.0.1';
  return advertised ? `${firstPublic}!${advertised}` : firstPublic;
}
