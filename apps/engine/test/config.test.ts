import { describe, expect, it } from 'vitest';
import { EngineConfigError, engineConfigFromEnv, formatHostport, parseSipListen } from '../src/config.ts';

describe('engine configuration from the environment', () => {
  it('uses the documented defaults', () => {
    const c = engineConfigFromEnv({ ENGINE_SECRET: 'long-enough-secret' });
    expect(c.sipListen).toEqual([
      { transport: 'udp', host: '0.0.0.0', port: 5060 },
      { transport: 'tcp', host: '0.0.0.0', port: 5060 },
      { transport: 'ws', host: '0.0.0.0', port: 5066 },
    ]);
    expect(c.engineAdmin).toEqual({ host: '127.0.0.1', port: 9022 });
    expect(c.sipTrace).toBe(false);
    expect(c.answerOptions).toBe(true);
    expect(c.sipAdvertisedAddress).toBeUndefined();
  });

  it('reads listeners with IPv6 hosts, the advertised address, trace and limits', () => {
    const c = engineConfigFromEnv({
      ENGINE_SECRET: 'long-enough-secret',
      SIP_LISTEN: 'udp:[::1]:16060, tcp:127.0.0.1:0',
      SIP_ADVERTISED_ADDRESS: '203.0.113.7',
      ENGINE_ADMIN: '[::1]:9999',
      SIP_TRACE: '1',
      ENGINE_ANSWER_OPTIONS: 'no',
      SIP_MAX_MESSAGE_BYTES: '8192',
    });
    expect(c.sipListen).toEqual([
      { transport: 'udp', host: '::1', port: 16060 },
      { transport: 'tcp', host: '127.0.0.1', port: 0 },
    ]);
    expect(c.sipAdvertisedAddress).toBe('203.0.113.7');
    expect(c.engineAdmin).toEqual({ host: '::1', port: 9999 });
    expect(c.sipTrace).toBe(true);
    expect(c.answerOptions).toBe(false);
    expect(c.limits?.maxMessageBytes).toBe(8192);
  });

  it('collects every problem at once', () => {
    let error: EngineConfigError | undefined;
    try {
      engineConfigFromEnv({
        ENGINE_SECRET: 'a|b',
        SIP_LISTEN: 'sctp:1.2.3.4:5060',
        ENGINE_ADMIN: 'nope',
        SIP_TRACE: 'maybe',
        SIP_MAX_MESSAGE_BYTES: '10',
      });
    } catch (err) {
      error = err as EngineConfigError;
    }
    expect(error).toBeInstanceOf(EngineConfigError);
    const vars = error!.problems.map((p) => p.split(':')[0]);
    expect(vars).toEqual(
      expect.arrayContaining([
        'SIP_LISTEN',
        'ENGINE_ADMIN',
        'ENGINE_SECRET',
        'SIP_TRACE',
        'SIP_MAX_MESSAGE_BYTES',
      ]),
    );
  });

  it('requires a certificate for tls and wss listeners', () => {
    expect(() =>
      engineConfigFromEnv({ ENGINE_SECRET: 'long-enough-secret', SIP_LISTEN: 'tls:127.0.0.1:5061' }),
    ).toThrow(/SIP_TLS_CERT/);
  });

  it('parses and formats listener addresses', () => {
    expect(() => parseSipListen('udp:[1.2.3.4]:5060')).toThrow();
    expect(() => parseSipListen('udp:127.0.0.1:70000')).toThrow();
    expect(formatHostport('udp', '::1', 5060)).toBe('udp/[::1]:5060');
    expect(formatHostport('tcp', '10.0.0.1', 5060)).toBe('tcp/10.0.0.1:5060');
  });
});
