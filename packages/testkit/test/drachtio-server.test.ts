import { afterEach, describe, expect, it, vi } from 'vitest';
import { drachtioServerBinary, startDrachtioServer } from '../src/drachtio-server.ts';
import { waitForListener } from '../src/scenarios.ts';

const binary = drachtioServerBinary();

describe('drachtio-server driver', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('says why there is no binary: the variable unset, or naming no file', () => {
    vi.stubEnv('DRACHTIO_SERVER_BIN', '');
    expect(drachtioServerBinary()).toEqual({ missing: 'DRACHTIO_SERVER_BIN is not set' });
    vi.stubEnv('DRACHTIO_SERVER_BIN', '/nonexistent/drachtio');
    expect(drachtioServerBinary()).toEqual({
      missing: 'DRACHTIO_SERVER_BIN=/nonexistent/drachtio does not exist',
    });
  });

  it.skipIf('missing' in binary)(
    `starts it on loopback ports and stops it${'missing' in binary ? ` (skipped: ${binary.missing})` : ''}`,
    { timeout: 30_000 },
    async () => {
      if ('missing' in binary) return;
      const server = await startDrachtioServer(binary.path, {
        secret: 'driver-test',
        transports: ['udp', 'tcp'],
      });
      try {
        expect(server.admin.host).toBe('127.0.0.1');
        await waitForListener(server.sipPort, { protocol: 'tcp', timeoutMs: 1_000 });
        expect(server.output()).toMatch(/Starting drachtio version/);
      } finally {
        await server.close();
      }
      expect(() => process.kill(server.pid, 0)).toThrow();
    },
  );
});
