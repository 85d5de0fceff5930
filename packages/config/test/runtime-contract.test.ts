import { describe, expect, it } from 'vitest';
import { ConfigError, isLoopbackHost, loadConfig } from '../src/runtime-contract.ts';

function problemsFor(env: Record<string, string>): { variable: string; message: string }[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig defaults', () => {
  it('applies the runtime contract defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toMatch(/[/\\]data$/);
    expect(config.sipListen).toEqual([
      { transport: 'udp', host: '0.0.0.0', port: 5060 },
      { transport: 'tcp', host: '0.0.0.0', port: 5060 },
      { transport: 'ws', host: '0.0.0.0', port: 5066 },
    ]);
    expect(config.engineAdmin).toEqual({ host: '127.0.0.1', port: 9022 });
    expect(config.engineSecretGenerated).toBe(true);
    expect(config.engineSecret.length).toBeGreaterThanOrEqual(16);
    expect(config.drachtio).toBeUndefined();
    expect(config.rtpengineNg).toBeUndefined();
    expect(config.rtpPorts).toEqual({ min: 30000, max: 40000 });
    expect(config.apiPort).toBe(3000);
    expect(config.numberingPort).toBe(3001);
    expect(config.enumListen).toEqual([
      { transport: 'udp', host: '127.0.0.1', port: 5300 },
      { transport: 'tcp', host: '127.0.0.1', port: 5300 },
    ]);
    expect(config.logLevel).toBe('info');
    expect(config.sipTls).toBeUndefined();
    expect(config.engineAdminTls).toBeUndefined();
    expect(config.sipTrace).toBe(false);
    expect(config.sipAuthStrictUri).toBe(false);
    expect(config.engineAnswerOptions).toBe(true);
    expect(config.sipMaxMessageBytes).toBe(65535);
    expect(config.sipUdpReceiveBufferBytes).toBe(4_194_304);
    expect(config.engineMaxApps).toBe(1000);
    expect(config.engineRequestHandlers).toEqual([]);
    expect(config.push).toEqual({
      apnsUrl: 'https://api.push.apple.com',
      apnsSandboxUrl: 'https://api.sandbox.push.apple.com',
      fcmUrl: 'https://fcm.googleapis.com',
      fcmTokenUrl: 'https://oauth2.googleapis.com/token',
    });
    expect(config.sipMessageTimeoutMs).toBe(10_000);
    expect(config.sipMaxConnections).toBe(10_000);
    expect(config.sipMaxConnectionsPerAddress).toBe(100);
  });

  // drachtio-server takes any secret; drachtio-srf's own test suite uses `cymru`. Only a listener reachable
  // from other hosts needs a secret long enough to resist guessing.
  it('accepts a short ENGINE_SECRET on a loopback admin listener and refuses it elsewhere', () => {
    expect(loadConfig({ ENGINE_SECRET: 'cymru' }).engineSecret).toBe('cymru');
    expect(loadConfig({ ENGINE_SECRET: 'cymru', ENGINE_ADMIN: '[::1]:9022' }).engineSecret).toBe('cymru');
    expect(() => loadConfig({ ENGINE_SECRET: 'cymru', ENGINE_ADMIN: '0.0.0.0:9022' })).toThrow(/at least 16/);
    expect(loadConfig({ ENGINE_SECRET: 'sixteen-chars!!!', ENGINE_ADMIN: '0.0.0.0:9022' }).engineSecret).toBe(
      'sixteen-chars!!!',
    );
    expect(
      ['127.0.0.1', '127.9.9.9', '::1', '[::1]', '::ffff:127.0.0.1', 'localhost'].map(isLoopbackHost),
    ).toEqual([true, true, true, true, true, true]);
    expect(['0.0.0.0', '::', '192.0.2.1', 'engine.internal', '128.0.0.1'].map(isLoopbackHost)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('generates a different engine secret on each start when none is given', () => {
    expect(loadConfig({}).engineSecret).not.toBe(loadConfig({}).engineSecret);
  });

  it('reads every variable of the contract', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://u:p@db.example.net:5432/switchboard',
      DATA_DIR: '/var/lib/switchboard',
      SIP_LISTEN: 'udp:[::1]:5070, tls:192.0.2.1:5061,wss:0.0.0.0:7443',
      SIP_ADVERTISED_ADDRESS: '203.0.113.7',
      DRACHTIO_URL: 'drachtio://s3cret@engine.internal:9023',
      ENGINE_ADMIN: '0.0.0.0:9022',
      ENGINE_SECRET: 'a-long-enough-secret',
      RTPENGINE_NG: '127.0.0.1:22222,[::1]:22223=3',
      RTP_PORTS: '20000-20998',
      API_PORT: '8080',
      NUMBERING_PORT: '8081',
      ENUM_LISTEN: 'udp:127.0.0.1:53',
      ADMIN_EMAIL: 'Ops@Example.com',
      ADMIN_PASSWORD: 'correct horse battery',
      LOG_LEVEL: 'debug',
      SIP_TLS_CERT: '/etc/switchboard/sip.crt',
      SIP_TLS_KEY: '/etc/switchboard/sip.key',
      ENGINE_ADMIN_TLS_CERT: 'admin.crt',
      ENGINE_ADMIN_TLS_KEY: 'admin.key',
      SIP_TRACE: 'on',
      ENGINE_ANSWER_OPTIONS: 'FALSE',
      SIP_MAX_MESSAGE_BYTES: '1024',
      SIP_UDP_RECEIVE_BUFFER_BYTES: '16777216',
      ENGINE_MAX_APPS: '100000',
      ENGINE_REQUEST_HANDLERS:
        'invite=tcp://127.0.0.1:3001, subscribe=tls://apps.example.net:3002, */POST=https://router.example.net/route',
      ENGINE_OUTBOUND_TLS_CA: '/etc/switchboard/apps-ca.pem',
      SIP_MESSAGE_TIMEOUT_MS: '2500',
      SIP_MAX_CONNECTIONS: '500',
      SIP_MAX_CONNECTIONS_PER_ADDRESS: '20',
      SIP_AUTH_STRICT_URI: 'yes',
    });
    expect(config.databaseUrl).toBe('postgresql://u:p@db.example.net:5432/switchboard');
    expect(config.dataDir).toBe('/var/lib/switchboard');
    expect(config.sipListen).toEqual([
      { transport: 'udp', host: '::1', port: 5070 },
      { transport: 'tls', host: '192.0.2.1', port: 5061 },
      { transport: 'wss', host: '0.0.0.0', port: 7443 },
    ]);
    expect(config.sipAdvertisedAddress).toBe('203.0.113.7');
    expect(config.drachtio).toEqual({ host: 'engine.internal', port: 9023, secret: 's3cret' });
    expect(config.engineAdmin).toEqual({ host: '0.0.0.0', port: 9022 });
    expect(config.engineSecret).toBe('a-long-enough-secret');
    expect(config.engineSecretGenerated).toBe(false);
    expect(config.rtpengineNg).toBe('127.0.0.1:22222,[::1]:22223=3');
    expect(config.rtpPorts).toEqual({ min: 20000, max: 20998 });
    expect(config.apiPort).toBe(8080);
    expect(config.numberingPort).toBe(8081);
    expect(config.enumListen).toEqual([{ transport: 'udp', host: '127.0.0.1', port: 53 }]);
    expect(config.adminEmail).toBe('ops@example.com');
    expect(config.adminPassword).toBe('correct horse battery');
    expect(config.logLevel).toBe('debug');
    expect(config.sipTls).toEqual({
      certPath: '/etc/switchboard/sip.crt',
      keyPath: '/etc/switchboard/sip.key',
    });
    expect(config.engineAdminTls).toEqual({ certPath: 'admin.crt', keyPath: 'admin.key' });
    expect(config.sipTrace).toBe(true);
    expect(config.engineAnswerOptions).toBe(false);
    expect(config.sipMaxMessageBytes).toBe(1024);
    expect(config.sipUdpReceiveBufferBytes).toBe(16_777_216);
    expect(config.engineMaxApps).toBe(100000);
    expect(config.sipAuthStrictUri).toBe(true);
    expect(config.engineRequestHandlers).toEqual([
      { method: 'INVITE', url: 'tcp://127.0.0.1:3001', httpMethod: 'GET' },
      { method: 'SUBSCRIBE', url: 'tls://apps.example.net:3002', httpMethod: 'GET' },
      { method: '*', url: 'https://router.example.net/route', httpMethod: 'POST' },
    ]);
    expect(config.sipMessageTimeoutMs).toBe(2500);
    expect(config.sipMaxConnections).toBe(500);
    expect(config.sipMaxConnectionsPerAddress).toBe(20);
    expect(config.engineOutboundTlsCa).toBe('/etc/switchboard/apps-ca.pem');
  });

  it.each([
    ['1', true],
    ['true', true],
    ['Yes', true],
    ['on', true],
    ['0', false],
    ['false', false],
    ['no', false],
    ['OFF', false],
  ])('reads the boolean %s as %s', (raw, expected) => {
    const config = loadConfig({ SIP_TRACE: raw, ENGINE_ANSWER_OPTIONS: raw, SIP_AUTH_STRICT_URI: raw });
    expect(config.sipTrace).toBe(expected);
    expect(config.sipAuthStrictUri).toBe(expected);
    expect(config.engineAnswerOptions).toBe(expected);
  });

  it('accepts tls and wss listeners without a certificate (the launcher generates one)', () => {
    const config = loadConfig({ SIP_LISTEN: 'tls:127.0.0.1:5061,wss:127.0.0.1:7443' });
    expect(config.sipListen.map((l) => l.transport)).toEqual(['tls', 'wss']);
    expect(config.sipTls).toBeUndefined();
  });

  it('resolves a relative DATA_DIR from the directory pnpm was started in', () => {
    expect(loadConfig({ INIT_CWD: '/srv/switchboard' }).dataDir).toBe('/srv/switchboard/data');
    expect(loadConfig({ INIT_CWD: '/srv/switchboard', DATA_DIR: 'var' }).dataDir).toBe(
      '/srv/switchboard/var',
    );
    expect(loadConfig({ INIT_CWD: '/srv/switchboard', DATA_DIR: '/data' }).dataDir).toBe('/data');
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', API_PORT: '  ' }).apiPort).toBe(3000);
  });
});

describe('loadConfig rejects bad values, naming the variable', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x@y/z' }, /postgres/],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }, /postgresql:\/\//],
    ['DATABASE_URL', { DATABASE_URL: 'postgresql://h:5432' }, /database name/],
    ['SIP_LISTEN', { SIP_LISTEN: 'sctp:0.0.0.0:5060' }, /transport one of udp, tcp, tls, ws, wss/],
    ['SIP_LISTEN', { SIP_LISTEN: 'udp:0.0.0.0' }, /host:port/],
    ['SIP_LISTEN', { SIP_LISTEN: 'udp:0.0.0.0:70000' }, /port number/],
    ['SIP_LISTEN', { SIP_LISTEN: ',' }, /at least one/],
    ['SIP_LISTEN', { SIP_LISTEN: 'udp:[fe80::zz]:5060' }, /host:port|IPv6/],
    ['SIP_ADVERTISED_ADDRESS', { SIP_ADVERTISED_ADDRESS: 'bad address!' }, /IP address or host name/],
    ['DRACHTIO_URL', { DRACHTIO_URL: 'http://x@h:9022' }, /drachtio:\/\//],
    ['DRACHTIO_URL', { DRACHTIO_URL: 'drachtio://h:9022' }, /shared secret/],
    ['ENGINE_ADMIN', { ENGINE_ADMIN: '9022' }, /host:port/],
    ['ENGINE_SECRET', { ENGINE_SECRET: 'short', ENGINE_ADMIN: '0.0.0.0:9022' }, /at least 16/],
    ['ENGINE_SECRET', { ENGINE_SECRET: 'fifteen-chars!!', ENGINE_ADMIN: '192.0.2.1:9022' }, /at least 16/],
    ['SIP_MESSAGE_TIMEOUT_MS', { SIP_MESSAGE_TIMEOUT_MS: '10s' }, /integer/],
    ['SIP_MAX_CONNECTIONS', { SIP_MAX_CONNECTIONS: '0' }, /integer 1-/],
    ['ENGINE_SECRET', { ENGINE_SECRET: 'with|pipe-inside' }, /separator/],
    ['RTPENGINE_NG', { RTPENGINE_NG: '127.0.0.1' }, /host:port/],
    ['RTPENGINE_NG', { RTPENGINE_NG: '127.0.0.1:22222=heavy' }, /weight/],
    ['RTP_PORTS', { RTP_PORTS: '30000' }, /range like 30000-40000/],
    ['RTP_PORTS', { RTP_PORTS: '40000-30000' }, /range/],
    ['API_PORT', { API_PORT: 'http' }, /port number/],
    ['API_PORT', { API_PORT: '-1' }, /port number/],
    ['NUMBERING_PORT', { NUMBERING_PORT: '3000' }, /differ from API_PORT/],
    ['ENUM_LISTEN', { ENUM_LISTEN: 'ws:127.0.0.1:53' }, /udp:host:port or tcp:host:port/],
    ['ADMIN_EMAIL', { ADMIN_EMAIL: 'admin' }, /e-mail/],
    ['ADMIN_PASSWORD', { ADMIN_PASSWORD: 'short' }, /at least 12/],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }, /one of fatal, error/],
    ['SIP_LISTEN', { SIP_LISTEN: 'udp:[1.2.3.4]:5060' }, /not an IPv6 address/],
    ['SIP_TLS_KEY', { SIP_TLS_CERT: 'cert.pem' }, /key file path, since SIP_TLS_CERT is set/],
    ['SIP_TLS_CERT', { SIP_TLS_KEY: 'key.pem' }, /certificate file path, since SIP_TLS_KEY is set/],
    ['ENGINE_ADMIN_TLS_KEY', { ENGINE_ADMIN_TLS_CERT: 'c.pem' }, /since ENGINE_ADMIN_TLS_CERT is set/],
    ['ENGINE_ADMIN_TLS_CERT', { ENGINE_ADMIN_TLS_KEY: 'k.pem' }, /since ENGINE_ADMIN_TLS_KEY is set/],
    ['SIP_TRACE', { SIP_TRACE: 'maybe' }, /1\/0, true\/false, yes\/no or on\/off/],
    ['ENGINE_ANSWER_OPTIONS', { ENGINE_ANSWER_OPTIONS: '2' }, /1\/0, true\/false/],
    ['SIP_MAX_MESSAGE_BYTES', { SIP_MAX_MESSAGE_BYTES: '1023' }, /integer 1024-65535/],
    ['SIP_MAX_MESSAGE_BYTES', { SIP_MAX_MESSAGE_BYTES: '65536' }, /integer 1024-65535/],
    ['SIP_MAX_MESSAGE_BYTES', { SIP_MAX_MESSAGE_BYTES: '8k' }, /integer 1024-65535/],
    ['SIP_UDP_RECEIVE_BUFFER_BYTES', { SIP_UDP_RECEIVE_BUFFER_BYTES: '4096' }, /integer 65536-268435456/],
    ['SIP_UDP_RECEIVE_BUFFER_BYTES', { SIP_UDP_RECEIVE_BUFFER_BYTES: '4M' }, /integer 65536-268435456/],
    ['ENGINE_MAX_APPS', { ENGINE_MAX_APPS: '0' }, /integer 1-100000/],
    ['ENGINE_MAX_APPS', { ENGINE_MAX_APPS: '1.5' }, /integer 1-100000/],
    ['ENGINE_REQUEST_HANDLERS', { ENGINE_REQUEST_HANDLERS: 'tcp://127.0.0.1:3001' }, /METHOD=url/],
    [
      'ENGINE_REQUEST_HANDLERS',
      { ENGINE_REQUEST_HANDLERS: 'INVITE=udp://h:1' },
      /tcp:\/\/host:port, tls:\/\/host:port or http/,
    ],
    ['PUSH_APNS_URL', { PUSH_APNS_URL: 'api.push.apple.com' }, /https URL/],
    ['PUSH_APNS_SANDBOX_URL', { PUSH_APNS_SANDBOX_URL: 'sandbox' }, /https URL/],
    ['PUSH_FCM_URL', { PUSH_FCM_URL: 'ftp://fcm.example' }, /https URL/],
    ['PUSH_FCM_TOKEN_URL', { PUSH_FCM_TOKEN_URL: 'nope' }, /https URL/],
  ];
  it.each(cases)('%s with %j', (variable, env, message) => {
    const problems = problemsFor(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.variable).toBe(variable);
    expect(problems[0]!.message).toMatch(message);
  });

  it('reports every bad variable at once', () => {
    const problems = problemsFor({
      API_PORT: 'x',
      LOG_LEVEL: 'y',
      SIP_LISTEN: 'z',
      SIP_TRACE: 'maybe',
      SIP_MAX_MESSAGE_BYTES: '10',
      SIP_TLS_CERT: 'cert.pem',
    });
    expect(problems.map((p) => p.variable).sort()).toEqual([
      'API_PORT',
      'LOG_LEVEL',
      'SIP_LISTEN',
      'SIP_MAX_MESSAGE_BYTES',
      'SIP_TLS_KEY',
      'SIP_TRACE',
    ]);
  });

  it('puts the variable name into the error message', () => {
    expect(() => loadConfig({ API_PORT: 'x' })).toThrow(/API_PORT: expected a port number/);
  });
});

describe('loadConfig observability variables', () => {
  it('leaves metrics and HEP export off by default', () => {
    const config = loadConfig({});
    expect(config.metricsListen).toBeUndefined();
    expect(config.hepDestination).toBeUndefined();
    expect(config.hepCaptureId).toBe(2001);
    expect(config.hepPassword).toBeUndefined();
  });

  it('reads METRICS_LISTEN, HEP_DESTINATION, HEP_CAPTURE_ID and HEP_PASSWORD', () => {
    const config = loadConfig({
      METRICS_LISTEN: '127.0.0.1:9464',
      HEP_DESTINATION: 'homer.internal:9060',
      HEP_CAPTURE_ID: '7',
      HEP_PASSWORD: 'collector-key',
    });
    expect(config.metricsListen).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(config.hepDestination).toEqual({ host: 'homer.internal', port: 9060 });
    expect(config.hepCaptureId).toBe(7);
    expect(config.hepPassword).toBe('collector-key');
  });

  it('names METRICS_LISTEN, HEP_DESTINATION and HEP_CAPTURE_ID when they are malformed', () => {
    const variables = problemsFor({
      METRICS_LISTEN: '9464',
      HEP_DESTINATION: 'homer:port',
      HEP_CAPTURE_ID: '-1',
    }).map((p) => p.variable);
    expect(variables).toEqual(['METRICS_LISTEN', 'HEP_DESTINATION', 'HEP_CAPTURE_ID']);
  });

  it('reads SMTP_URL, MAIL_FROM and PUBLIC_URL, and leaves e-mail off without them', () => {
    expect(loadConfig({}).mail).toEqual({ smtpUrl: undefined, mailFrom: undefined, publicUrl: undefined });
    const config = loadConfig({
      SMTP_URL: 'smtps://mailer:secret@mail.example.com:465',
      MAIL_FROM: 'VoIP <noreply@example.com>',
      PUBLIC_URL: 'https://voip.example.com/',
    });
    expect(config.mail).toEqual({
      smtpUrl: 'smtps://mailer:secret@mail.example.com:465',
      mailFrom: 'VoIP <noreply@example.com>',
      publicUrl: 'https://voip.example.com',
    });
  });

  it('names SMTP_URL, MAIL_FROM and PUBLIC_URL when they are malformed', () => {
    const variables = problemsFor({
      SMTP_URL: 'http://mail.example.com',
      MAIL_FROM: 'nobody',
      PUBLIC_URL: 'voip.example.com',
    }).map((p) => p.variable);
    expect(variables).toEqual(['SMTP_URL', 'MAIL_FROM', 'PUBLIC_URL']);
  });

  it('reads SIP_CLUSTER_NODES: every node by name with its engine address; none by default', () => {
    expect(loadConfig({}).sipClusterNodes).toEqual([]);
    const config = loadConfig({ SIP_CLUSTER_NODES: 'sip1=10.0.0.1:5060, sip2=[2001:db8::2]:5070' });
    expect(config.sipClusterNodes).toEqual([
      { name: 'sip1', host: '10.0.0.1', port: 5060 },
      { name: 'sip2', host: '2001:db8::2', port: 5070 },
    ]);
  });

  it.each([
    ['10.0.0.1:5060', 'name=ip:port'],
    ['sip1=sip1.example.com:5060', 'IP address'],
    ['sip1=10.0.0.1', 'host:port'],
    ['sip1=10.0.0.1:5060,sip1=10.0.0.2:5060', 'named twice'],
  ])('names SIP_CLUSTER_NODES when it is malformed: %s', (raw, message) => {
    const problems = problemsFor({ SIP_CLUSTER_NODES: raw });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ variable: 'SIP_CLUSTER_NODES' });
    expect(problems[0]!.message).toContain(message);
  });
});
