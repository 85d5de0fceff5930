import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocatePort, optionsRequest } from '@switchboard/testkit';

const CONFIG = fileURLToPath(new URL('./kamailio-pbx.cfg', import.meta.url));

/** Kamailio as an upstream PBX on a loopback address: what it logged and its location table. */
export interface KamailioPbx {
  address: string;
  port: number;
  /** Every `PBX-SAW` line it logged (one per request it received). */
  seen(): string[];
  /** `kamcmd ul.dump`: its registrations (contacts with their Path). */
  locations(): string;
  stop(): Promise<void>;
}

/**
 * Starts Kamailio with kamailio-pbx.cfg on `address`, with `users` (`user@domain` -> password) as
 * MD5 HA1s in memory and INVITEs accepted from `sbcAddress` only; resolves once it answers OPTIONS.
 * `notifier` (`address:port`): where SUBSCRIBEs are proxied and NOTIFYs are taken from (WITH_NOTIFIER).
 */
export async function startKamailioPbx(
  address: string,
  sbcAddress: string,
  users: Record<string, string>,
  options: { notifier?: { address: string; port: number } } = {},
): Promise<KamailioPbx> {
  const port = await allocatePort({ address });
  const dir = mkdtempSync(join(tmpdir(), 'pbx-kamailio-'));
  const ctl = join(dir, 'ctl.sock');
  const credentials = Object.entries(users)
    .map(([aor, password]) => {
      const [user, domain] = aor.split('@');
      const ha1 = createHash('md5').update(`${user}:${domain}:${password}`).digest('hex');
      return `  $sht(cred=>${aor}) = "${ha1}";`;
    })
    .join('\n');
  const config = readFileSync(CONFIG, 'utf8')
    .replaceAll('@LISTEN@', `${address}:${port}`)
    .replaceAll('@SBC@', sbcAddress)
    .replaceAll('@CTL@', ctl)
    .replaceAll('@NOTIFIER@', options.notifier ? `${options.notifier.address}:${options.notifier.port}` : '')
    .replaceAll('@NOTIFIER_IP@', options.notifier?.address ?? '')
    .replace('@CRED_LINES@', credentials);
  const file = join(dir, 'kamailio.cfg');
  writeFileSync(file, config);
  // A process group of its own, so its forked workers go with it.
  const child: ChildProcess = spawn(
    'kamailio',
    [
      '-f',
      file,
      ...(options.notifier ? ['-A', 'WITH_NOTIFIER'] : []),
      '-DD',
      '-E',
      '-w',
      dir,
      '-Y',
      dir,
      '-P',
      join(dir, 'pid'),
      '-m',
      '64',
      '-M',
      '8',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let log = '';
  child.stderr?.on('data', (data: Buffer) => {
    // Bounded: only the lines the test reads are kept, the last 2 MB of them.
    for (const line of data.toString().split('\n'))
      if (line.includes('PBX-SAW') || line.includes('ERROR')) log = `${log}${line}\n`.slice(-2_000_000);
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
  const pbx: KamailioPbx = {
    address,
    port,
    seen: () => log.split('\n').filter((line) => line.includes('PBX-SAW')),
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
    await untilAnswering(address, port, () => log);
  } catch (error) {
    await pbx.stop();
    throw error;
  }
  return pbx;
}

/** Bounded wait (20 s) until Kamailio answers an OPTIONS. */
export async function untilAnswering(
  address: string,
  port: number,
  diagnostics: () => string,
): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  try {
    for (let attempt = 0; attempt < 40; attempt++) {
      const local = socket.address().port;
      const ping = optionsRequest({
        uri: `sip:${address}:${port}`,
        via: `SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bKping${attempt}`,
        from: '<sip:probe@127.0.0.1>;tag=1',
        to: `<sip:${address}:${port}>`,
        callId: `ping-${attempt}-${Date.now()}`,
      });
      const answered = new Promise<boolean>((resolve) => {
        const onMessage = (): void => {
          clearTimeout(timer);
          resolve(true);
        };
        // An unanswered ping leaves no listener behind for the next one.
        const timer = setTimeout(() => {
          socket.off('message', onMessage);
          resolve(false);
        }, 500);
        socket.once('message', onMessage);
      });
      socket.send(ping, port, address);
      if (await answered) return;
    }
    throw new Error(`Kamailio did not answer OPTIONS:\n${diagnostics().slice(-3000)}`);
  } finally {
    socket.close();
  }
}
