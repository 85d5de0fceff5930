import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/runtime-contract.ts';

describe('SIP access variables', () => {
  it('default to no trusted sources and 50 requests per second with a burst of 200', () => {
    expect(loadConfig({}).sipAccess).toEqual({
      trustedSources: [],
      rateLimitPerSecond: 50,
      rateLimitBurst: 200,
    });
  });

  it('read SIP_TRUSTED_SOURCES (addresses and CIDR blocks), SIP_RATE_LIMIT and SIP_RATE_BURST; 0 turns the limit off', () => {
    const config = loadConfig({
      SIP_TRUSTED_SOURCES: '127.0.0.0/8, 192.0.2.7,2001:db8::/32,[::1]',
      SIP_RATE_LIMIT: '0',
      SIP_RATE_BURST: '20',
    });
    expect(config.sipAccess).toEqual({
      trustedSources: ['127.0.0.0/8', '192.0.2.7', '2001:db8::/32', '[::1]'],
      rateLimitPerSecond: 0,
      rateLimitBurst: 20,
    });
  });

  it('name each bad variable', () => {
    for (const [env, variable] of [
      [{ SIP_TRUSTED_SOURCES: '127.0.0.0/33' }, 'SIP_TRUSTED_SOURCES'],
      [{ SIP_TRUSTED_SOURCES: '10.0.0.0/8,pbx.example.com' }, 'SIP_TRUSTED_SOURCES'],
      [{ SIP_TRUSTED_SOURCES: '2001:db8::/129' }, 'SIP_TRUSTED_SOURCES'],
      [{ SIP_RATE_LIMIT: '-1' }, 'SIP_RATE_LIMIT'],
      [{ SIP_RATE_LIMIT: 'fast' }, 'SIP_RATE_LIMIT'],
      [{ SIP_RATE_BURST: '0' }, 'SIP_RATE_BURST'],
    ] as const) {
      try {
        loadConfig(env);
        expect.unreachable(`${JSON.stringify(env)} accepted`);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).problems.map((p) => p.variable)).toEqual([variable]);
      }
    }
  });
});
