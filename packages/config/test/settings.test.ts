import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/runtime-contract.ts';
import { SETTINGS, settingProblem, settingsConflict, settingsFromEnvironment } from '../src/settings.ts';

describe('operator settings', () => {
  it('are fixed by the environment only where their variable is set', () => {
    expect(loadConfig({}).environmentSettings.size).toBe(0);
    const fixed = loadConfig({
      SIP_TRUSTED_SOURCES: '127.0.0.0/8,192.0.2.7',
      SIP_RATE_LIMIT: '0',
      SIP_AUTH_STRICT_URI: 'yes',
      SIP_RATE_BURST: ' ',
    }).environmentSettings;
    expect(Object.fromEntries(fixed)).toEqual({
      'access.trustedSources': ['127.0.0.0/8', '192.0.2.7'],
      'access.rateLimitPerSecond': 0,
      'auth.strictUri': true,
    });
  });

  it('PUSH_WAIT_TIMEOUT fixes the push wait of calls; a bad value is named at start', () => {
    expect(Object.fromEntries(loadConfig({ PUSH_WAIT_TIMEOUT: '25' }).environmentSettings)).toEqual({
      'calls.pushWaitTimeout': 25,
    });
    expect(() => loadConfig({ PUSH_WAIT_TIMEOUT: '0' })).toThrow(/PUSH_WAIT_TIMEOUT/);
  });

  it("SIP_MAX_CALLS and SIP_MAX_CALLS_PER_SECOND fix the node's call limits; a bad value is named at start", () => {
    const env = { SIP_MAX_CALLS: '400', SIP_MAX_CALLS_PER_SECOND: '0' };
    expect(Object.fromEntries(loadConfig(env).environmentSettings)).toEqual({
      'calls.maxConcurrent': 400,
      'calls.maxPerSecond': 0,
    });
    expect(() => loadConfig({ SIP_MAX_CALLS: '-1' })).toThrow(/SIP_MAX_CALLS/);
    expect(() => loadConfig({ SIP_MAX_CALLS_PER_SECOND: 'many' })).toThrow(/SIP_MAX_CALLS_PER_SECOND/);
  });

  it('throw on a bad variable when read on their own', () => {
    expect(() => settingsFromEnvironment({ SIP_RATE_LIMIT: 'fast' })).toThrow(/integer/);
  });

  it('check values against their kind and bounds', () => {
    const byKey = new Map(SETTINGS.map((s) => [s.key, s]));
    const rate = byKey.get('access.rateLimitPerSecond')!;
    expect(settingProblem(rate, 0)).toBeUndefined();
    expect(settingProblem(rate, -1)).toMatch(/0-1000000/);
    expect(settingProblem(rate, 1.5)).toBeDefined();
    expect(settingProblem(byKey.get('auth.strictUri')!, 'yes')).toBeDefined();
    const trusted = byKey.get('access.trustedSources')!;
    expect(settingProblem(trusted, ['10.0.0.0/8', '::1'])).toBeUndefined();
    expect(settingProblem(trusted, ['10.0.0.0/8', 'pbx.example.com'])).toMatch(/pbx\.example\.com/);
    for (const s of SETTINGS) expect(settingProblem(s, s.default), s.key).toBeUndefined();
  });

  it('refuse a registrar minimum above its maximum', () => {
    expect(
      settingsConflict(
        new Map([
          ['registrar.minExpires', 600],
          ['registrar.maxExpires', 300],
        ]),
      ),
    ).toMatch(/minExpires/);
    expect(settingsConflict(new Map([['registrar.minExpires', 60]]))).toBeUndefined();
  });
});
