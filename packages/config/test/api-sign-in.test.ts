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
      trustedProxies: [],
    });
  });

  it('read API_LOGIN_* in seconds, API_COOKIE_SECURE and API_TRUSTED_PROXIES', () => {
    const config = loadConfig({
      API_LOGIN_FAILURES_PER_IP: '50',
      API_LOGIN_FAILURES_PER_USER: '8',
      API_LOGIN_WINDOW: '600',
      API_LOGIN_MAX_DELAY: '0',
      API_COOKIE_SECURE: 'true',
      API_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8,::1',
    });
    expect(config.apiSignIn).toEqual({
      limits: {
        loginFailuresPerIp: 50,
        loginFailuresPerAccount: 8,
        loginWindowMs: 600_000,
        loginMaxDelayMs: 0,
      },
      cookieSecure: true,
      trustedProxies: ['127.0.0.1', '10.0.0.0/8', '::1'],
    });
    expect(loadConfig({ API_COOKIE_SECURE: 'no' }).apiSignIn.cookieSecure).toBe(false);
    for (const bad of ['10.0.0.0/33', '::1/129', '1.2.3.4/8/9', 'not-an-address']) {
      expect(() => loadConfig({ API_TRUSTED_PROXIES: bad }), bad).toThrow(/API_TRUSTED_PROXIES/);
    }
  });

  it('name each bad variable', () => {
    try {
      loadConfig({
        API_LOGIN_FAILURES_PER_IP: '0',
        API_LOGIN_WINDOW: 'soon',
        API_COOKIE_SECURE: 'maybe',
        API_TRUSTED_PROXIES: '127.0.0.1,caddy',
      });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.variable)).toEqual([
        'API_LOGIN_FAILURES_PER_IP',
        'API_LOGIN_WINDOW',
        'API_COOKIE_SECURE',
        'API_TRUSTED_PROXIES',
      ]);
    }
  });
});
