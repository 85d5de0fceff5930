import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/runtime-contract.ts';

describe('API create limits', () => {
  it('default to generous limits in a ten-minute window', () => {
    expect(loadConfig({}).apiCreateLimits).toEqual({
      perPrincipal: 300,
      perAddress: 1000,
      windowMs: 600_000,
    });
  });

  it('are read from API_CREATE_LIMIT, API_CREATE_LIMIT_PER_ADDRESS and API_CREATE_WINDOW; 0 turns one off', () => {
    const config = loadConfig({
      API_CREATE_LIMIT: '0',
      API_CREATE_LIMIT_PER_ADDRESS: '50',
      API_CREATE_WINDOW: '60',
    });
    expect(config.apiCreateLimits).toEqual({ perPrincipal: 0, perAddress: 50, windowMs: 60_000 });
  });

  it('name each bad variable', () => {
    try {
      loadConfig({ API_CREATE_LIMIT: 'lots', API_CREATE_WINDOW: '0' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.variable)).toEqual([
        'API_CREATE_LIMIT',
        'API_CREATE_WINDOW',
      ]);
    }
  });
});
