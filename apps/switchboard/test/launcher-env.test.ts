import { loadConfig } from '@switchboard/config';
import { describe, expect, it } from 'vitest';
import { launcherEnv } from '../src/launcher-env.ts';

describe('the launcher listeners', () => {
  it('adds a tls listener on 5061 and a wss listener on 5063 to the default SIP_LISTEN', () => {
    const config = loadConfig(launcherEnv({}));
    expect(config.sipListen).toContainEqual({ transport: 'tls', host: '0.0.0.0', port: 5061 });
    expect(config.sipListen).toContainEqual({ transport: 'wss', host: '0.0.0.0', port: 5063 });
    expect(config.sipListen).toContainEqual({ transport: 'ws', host: '0.0.0.0', port: 5066 });
    expect(config.sipListen).toContainEqual({ transport: 'udp', host: '0.0.0.0', port: 5060 });
  });

  it("keeps the operator's SIP_LISTEN as it is", () => {
    const config = loadConfig(launcherEnv({ SIP_LISTEN: 'udp:127.0.0.1:5070' }));
    expect(config.sipListen).toEqual([{ transport: 'udp', host: '127.0.0.1', port: 5070 }]);
  });

  it('the standalone default has no tls or wss (no certificate there to serve them with)', () => {
    expect(loadConfig({}).sipListen.some((l) => l.transport === 'wss' || l.transport === 'tls')).toBe(false);
  });
});
