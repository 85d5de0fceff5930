import { SETTINGS } from '@switchboard/config';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CALLS } from '../src/calls/calls-config.ts';
import { ConfigError, DEFAULT_REGISTRAR, resolveConfig } from '../src/config.ts';
import { DEFAULT_MESSAGES } from '../src/messages/messages-config.ts';
import { callsFromEnvironment } from '../src/settings.ts';

const drachtio = { host: '127.0.0.1', port: 9022, secret: 'cymru' };

describe('resolveConfig', () => {
  it('fills in defaults and lower-cases scanner patterns', () => {
    const config = resolveConfig({ drachtio, access: { scannerUserAgents: ['FriendLy-Scanner'] } });
    expect(config.registrar).toEqual(DEFAULT_REGISTRAR);
    expect(config.nodeName).toBe('sip-core');
    expect(config.access.scannerUserAgents).toEqual(['friendly-scanner']);
    expect(config.auth.algorithms).toEqual(['MD5']);
    expect(config.auth.strictUri).toBe(false);
    expect(config.access.userDelayMax).toBe(16);
    expect(config.auth.nonceSecret.length).toBeGreaterThanOrEqual(32);
  });

  it.each([
    [{ registrar: { minExpires: 600, maxExpires: 60 } }, /minExpires must not exceed/],
    [{ registrar: { natExpires: 10 } }, /natExpires/],
    [{ registrar: { minExpires: 0 } }, /registrar.minExpires/],
    [{ access: { banDuration: -1 } }, /access.banDuration/],
    // A held failure must be answered before the client's transaction gives up (32 s).
    [{ access: { userDelayMax: 31 } }, /userDelayMax/],
    [{ auth: { nonceSecret: 'short' } }, /nonceSecret/],
    [{ auth: { algorithms: [] } }, /algorithms/],
  ])('rejects %j', (options, message) => {
    expect(() => resolveConfig({ drachtio, ...options })).toThrow(message);
  });

  it('rejects an incomplete engine connection', () => {
    expect(() => resolveConfig({ drachtio: { ...drachtio, secret: '' } })).toThrow(ConfigError);
  });
});

describe('operator settings catalogue', () => {
  it("has sip-core's own defaults (one definition must not drift from the other)", () => {
    const config = resolveConfig({ drachtio: { host: '127.0.0.1', port: 9022, secret: 'x' } });
    const sections: Record<string, Record<string, unknown>> = {
      access: config.access as unknown as Record<string, unknown>,
      registrar: config.registrar as unknown as Record<string, unknown>,
      auth: config.auth as unknown as Record<string, unknown>,
      calls: DEFAULT_CALLS as unknown as Record<string, unknown>,
      presence: config.presence as unknown as Record<string, unknown>,
      messages: DEFAULT_MESSAGES as unknown as Record<string, unknown>,
    };
    // Settings the API applies (web sign-in) have no counterpart here.
    for (const s of SETTINGS.filter((d) => d.component !== 'api')) {
      const [section = '', field = ''] = s.key.split('.');
      expect(sections[section]?.[field], s.key).toEqual(s.default);
    }
  });
});

describe('callsFromEnvironment', () => {
  it('takes the call settings an environment variable fixed (PUSH_WAIT_TIMEOUT), nothing else', () => {
    const fixed = new Map<string, number>([
      ['calls.pushWaitTimeout', 25],
      ['access.rateLimitPerSecond', 0],
    ]);
    expect(callsFromEnvironment(fixed)).toEqual({ pushWaitTimeout: 25 });
    expect(callsFromEnvironment(new Map())).toEqual({});
  });
});
