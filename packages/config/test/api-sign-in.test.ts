import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.ts';

describe('API sign-in settings', () => {
  it('default to 20 failures per address, slow-down after 5 per account, 15 minutes, at most 30 s', () => {
    expect(loadConfig({}).apiSignIn).toEqual({
      limits: {
        loginFailuresPerIp: 20,
        loginFailuresPerAccount: 5,
        loginWindowMs: 900_000,
        loginMaxDelayMs: 30_000,
      },
      cookieSecure: 'auto',
    });
  });

  it('read API_LOGIN_* in seconds and API_COOKIE_SECURE', () => {
    const config = loadConfig({
      API_LOGIN_FAILURES_PER_IP: '50',
      API_LOGIN_FAILURES_PER_USER: '8',
      API_LOGIN_WINDOW: '600',
      API_LOGIN_MAX_DELAY: '0',
      API_COOKIE_SECURE: 'true',
    });
    expect(config.apiSignIn).toEqual({
      limits: {
        loginFailuresPerIp: 50,
        loginFailuresPerAccount: 8,
        loginWindowMs: 600_000,
        loginMaxDelayMs: 0,
      },
      cookieSecure: true,
    });
    expect(loadConfig({ API_COOKIE_SECURE: 'no' }).apiSignIn.cookieSecure).toBe(false);
  });

  it('name each bad variable', () => {
    try {
      loadConfig({ API_LOGIN_FAILURES_PER_IP: '0', API_LOGIN_WINDOW: 'soon', API_COOKIE_SECURE: 'maybe' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.variable)).toEqual([
        'API_LOGIN_FAILURES_PER_IP',
        'API_LOGIN_WINDOW',
        'API_COOKIE_SECURE',
      ]);
    }
  });
});
