import type { SipCoreOptions } from '../src/config.ts';

/**
 * sip-core as the benchmark runs it: every request comes from sipp on loopback, so loopback is
 * trusted (no rate limit, no ban) and there are no keep-alives; everything else is the default,
 * except the write-behind window when BENCH_WRITE_BEHIND_MS names one (0: write-through).
 */
export function benchSipCoreOptions(enginePort: number, secret: string): SipCoreOptions {
  return {
    drachtio: { host: '127.0.0.1', port: enginePort, secret },
    nodeName: 'bench',
    access: { trustedSources: ['127.0.0.0/8'], rateLimitPerSecond: 0 },
    nat: { keepaliveInterval: 0 },
    ...(process.env.BENCH_WRITE_BEHIND_MS === undefined
      ? {}
      : { registrar: { writeBehindMs: Number(process.env.BENCH_WRITE_BEHIND_MS) } }),
  };
}
