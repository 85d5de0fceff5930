import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocatePort, type TestCertificate } from '@switchboard/testkit';
import { untilAnswering } from '../pbx/kamailio.ts';

const CONFIG = fileURLToPath(new URL('./kamailio-registrar.cfg', import.meta.url));
export const CARRIER_REALM = 'carrier.test';

/** Kamailio as a carrier's registrar on 127.0.0.1: REGISTER over TLS, calls in over UDP. */
export interface KamailioRegistrar {
  udpPort: number;
  tlsPort: number;
  /** Every `CARRIER-SAW` / `CARRIER-CALL` line it logged (one per request it received or routed). */
  seen(): string[];
  /** `kamcmd ul.dump`: its registrations. */
  locations(): string;
  stop(): Promise<void>;
}

/**
 * Starts Kamailio with kamailio-registrar.cfg (its tls module serving `certificate`), with `users`
 * (user -> password) as MD5 HA1s of realm carrier.test in memory; resolves once it answers OPTIONS.
 */
export async function startKamailioRegistrar(
  certificate: TestCertificate,
  users: Record<string, string>,
): Promise<KamailioRegistrar> {
  const udpPort = await allocatePort();
  const tlsPort = await allocatePort({ tcp: true });
  const dir = mkdtempSync(join(tmpdir(), 'carrier-kamailio-'));
  const ctl = join(dir, 'ctl.sock');
  writeFileSync(join(dir, 'cert.pem'), certificate.cert);
  writeFileSync(join(dir, 'key.pem'), certificate.key, { mode: 0o600 });
  // The server side serves the test's certificate; neither side asks the other for one.
  writeFileSync(
    join(dir, 'tls.cfg'),
    [
      '[server:default]',
      'method = TLSv1.2+',
      'verify_certificate = no',
      'require_certificate = no',
      `private_key = ${join(dir, 'key.pem')}`,
      `certificate = ${join(dir, 'cert.pem')}`,
      '',
      '[client:default]',
      'method = TLSv1.2+',
      'verify_certificate = no',
      'require_certificate = no',
      '',
    ].join('\n'),
  );
  const credentials = Object.entries(users)
    .map(([user, password]) => {
      const ha1 = createHash('md5').update(`${user}:${CARRIER_REALM}:${password}`).digest('hex');
      return `  $sht(cred=>${user}) = "${ha1}";`;
    })
    .join('\n');
  const config = readFileSync(CONFIG, 'utf8')
    .replaceAll('@UDP@', `127.0.0.1:${udpPort}`)
    .replaceAll('@TLS@', `127.0.0.1:${tlsPort}`)
    .replaceAll('@TLSCFG@', join(dir, 'tls.cfg'))
    .replaceAll('@CTL@', ctl)
    .replace('@CRED_LINES@', credentials);
  const file = join(dir, 'kamailio.cfg');
  writeFileSync(file, config);
  // A process group of its own, so its forked workers go with it.
  const child: ChildProcess = spawn(
    'kamailio',
    ['-f', file, '-DD', '-E', '-w', dir, '-Y', dir, '-P', join(dir, 'pid'), '-m', '64', '-M', '8'],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let log = '';
  child.stderr?.on('data', (data: Buffer) => {
    // Bounded: only the lines the test reads are kept, the last 2 MB of them.
    for (const line of data.toString().split('\n'))
      if (line.includes('CARRIER-') || line.includes('ERROR') || line.includes('CRITICAL'))
        log = `${log}${line}\n`.slice(-2_000_000);
  });
  const kill = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // Gone already.
    }
  };
  const onExit = (): void => kill('SIGKILL');
  process.once('exit', onExit);
  const registrar: KamailioRegistrar = {
    udpPort,
    tlsPort,
    seen: () => log.split('\n').filter((line) => line.includes('CARRIER-')),
    locations: () => execFileSync('kamcmd', ['-s', `unix:${ctl}`, 'ul.dump'], { encoding: 'utf8' }),
    async stop() {
      kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 500));
      kill('SIGKILL');
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await untilAnswering('127.0.0.1', udpPort, () => log);
  } catch (error) {
    await registrar.stop();
    throw error;
  }
  return registrar;
}
