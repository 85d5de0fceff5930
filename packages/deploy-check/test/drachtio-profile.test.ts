import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  allocatePort,
  drachtioServerBinary,
  selfSignedCertificate,
  startDrachtioServer,
  waitForListener,
} from '@switchboard/testkit';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ComposeFile, dockerCompose, parseEnvFile, readInfra } from './support/files.ts';

/**
 * `COMPOSE_PROFILES=drachtio`: drachtio-server in place of our engine. Resolved by docker-compose with
 * the example settings, it must listen where the engine profile listens, take the same secret, certificates
 * and advertised address, and be where sip-core's DRACHTIO_URL points. With DRACHTIO_SERVER_BIN set, its
 * command line is also given to a real drachtio-server (on loopback ports) to prove that it starts.
 */
const example = parseEnvFile(readInfra('.env.example'));

function resolved(): ComposeFile {
  const file = join(mkdtempSync(join(tmpdir(), 'deploy-env-')), '.env');
  const env = { ...example, COMPOSE_PROFILES: 'drachtio' };
  writeFileSync(
    file,
    `${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  const run = dockerCompose(file, ['config']);
  expect(run.status, run.stderr).toBe(0);
  return parse(run.stdout) as ComposeFile;
}

/** The values of every `--name value` pair of a command line. */
function optionValues(command: string[], name: string): string[] {
  return command.flatMap((arg, i) => (arg === name && command[i + 1] !== undefined ? [command[i + 1]!] : []));
}

/** `transport:port` of every drachtio `--contact` (`sip:*:5060;transport=udp,tcp` gives two). */
function contactListeners(command: string[]): string[] {
  return optionValues(command, '--contact').flatMap((contact) => {
    const match = /^sips?:[^:;]+:(\d+);transport=([a-z,]+)$/.exec(contact);
    if (!match) throw new Error(`unexpected contact ${contact}`);
    return match[2]!.split(',').map((transport) => `${transport}:${match[1]}`);
  });
}

const compose = resolved();
const drachtio = compose.services.drachtio!;
const command = drachtio.command ?? [];
const binary = drachtioServerBinary();

describe('the drachtio-server profile', () => {
  it('listens on every transport and port the engine profile listens on', () => {
    const engineListeners = example.SIP_LISTEN!.split(',').map((l) => {
      const [transport, , port] = l.split(':');
      return `${transport}:${port}`;
    });
    expect(contactListeners(command).sort()).toEqual(engineListeners.sort());
  });

  it('is where sip-core connects: admin address, port and secret of DRACHTIO_URL', () => {
    const url = new URL(compose.services['sip-core']!.environment!.DRACHTIO_URL!);
    expect(optionValues(command, '--address')).toEqual([url.hostname]);
    expect(optionValues(command, '--port')).toEqual([url.port]);
    expect(optionValues(command, '--secret')).toEqual([decodeURIComponent(url.username)]);
    expect(optionValues(command, '--secret')).toEqual([example.ENGINE_SECRET]);
    expect(`${url.hostname}:${url.port}`).toBe(example.ENGINE_ADMIN);
    expect(drachtio.healthcheck?.test.join(' ')).toContain(`/dev/tcp/${url.hostname}/${url.port}`);
  });

  it('advertises the same address and serves TLS/WSS with the certificates it mounts', () => {
    expect(optionValues(command, '--external-ip')).toEqual([example.SIP_ADVERTISED_ADDRESS]);
    expect(optionValues(command, '--cert-file')).toEqual([example.SIP_TLS_CERT]);
    expect(optionValues(command, '--key-file')).toEqual([example.SIP_TLS_KEY]);
    // drachtio-server v0.9.4 opens no SIP listener at all when TLS has no chain file.
    expect(optionValues(command, '--chain-file')).toEqual([example.SIP_TLS_CERT]);
    const tlsMount = (drachtio.volumes ?? []).find((v) => v.includes(':/etc/switchboard/tls'));
    expect(tlsMount).toMatch(/:ro$/);
    expect(example.SIP_TLS_CERT!.startsWith('/etc/switchboard/tls/')).toBe(true);
  });

  it.skipIf('missing' in binary)(
    `its command line starts drachtio-server and opens every listener${'missing' in binary ? ` (skipped: ${binary.missing})` : ''}`,
    { timeout: 30_000 },
    async () => {
      if ('missing' in binary) return;
      const dir = mkdtempSync(join(tmpdir(), 'drachtio-profile-'));
      const cert = selfSignedCertificate();
      writeFileSync(join(dir, 'sip.crt'), cert.cert);
      writeFileSync(join(dir, 'sip.key'), cert.key);
      // The profile's command, moved to loopback ports of this test and to the test's certificate.
      const ports = new Map<string, number>();
      for (const listener of contactListeners(command)) {
        const port = listener.split(':')[1]!;
        if (!ports.has(port)) ports.set(port, await allocatePort({ tcp: true, min: 25000, max: 25999 }));
      }
      // Without the admin options, which the driver sets to its own loopback port (checked above).
      const admin = new Set(['--address', '--port', '--secret']);
      const listenerArgs = command
        .slice(1)
        .filter((arg, i, all) => !admin.has(arg) && !admin.has(all[i - 1]!));
      const args = listenerArgs.map((arg) =>
        arg
          .replace(
            /^(sips?):\*:(\d+)/,
            (_m, scheme: string, port: string) => `${scheme}:127.0.0.1:${ports.get(port)}`,
          )
          .replaceAll(example.SIP_TLS_CERT!, join(dir, 'sip.crt'))
          .replace(example.SIP_TLS_KEY!, join(dir, 'sip.key')),
      );
      const server = await startDrachtioServer(binary.path, {
        secret: example.ENGINE_SECRET!,
        listenerArgs: args,
      });
      try {
        for (const listener of contactListeners(command)) {
          const [transport, port] = listener.split(':');
          const local = ports.get(port!)!;
          await waitForListener(local, {
            protocol: transport === 'udp' ? 'udp' : 'tcp',
            timeoutMs: 5_000,
          }).catch((error: Error) => {
            throw new Error(`${error.message}\n${server.output().slice(-3000)}`);
          });
        }
      } finally {
        await server.close();
      }
    },
  );
});
