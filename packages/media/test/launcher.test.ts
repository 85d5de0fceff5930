import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { udpFree } from '@switchboard/testkit';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import {
  detectRtpengine,
  localRtpengineArgs,
  resolveMediaConfig,
  startLocalRtpengine,
  udpPortOwner,
} from '../src/launcher.ts';
import { NullMedia } from '../src/null-media.ts';
import { processCommandLine, rtpenginePidFile } from '../src/orphan.ts';
import { profiles } from '../src/profiles.ts';
import { RtpengineMedia } from '../src/rtpengine-media.ts';
import { lines, mLines, sdp, silentLogger } from './support.ts';

const scratch = mkdtempSync(join(tmpdir(), 'media-launcher-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const offerRequest = {
  callId: 'launcher@test',
  fromTag: 'a',
  sdp: sdp({ address: '127.0.0.1', audioPort: 9000 }),
  legProfile: profiles.publicPeer,
  otherLegProfile: profiles.publicPeer,
};

describe('detectRtpengine', () => {
  it('finds the installed binary on PATH and nothing on an empty PATH', () => {
    expect(detectRtpengine()).toMatch(/\/rtpengine$/);
    expect(detectRtpengine('')).toBeNull();
    expect(detectRtpengine(scratch)).toBeNull();
  });
});

describe('localRtpengineArgs', () => {
  it('runs userspace, NG on loopback, no system config, immediate delete', () => {
    const args = localRtpengineArgs({
      ngPort: 22222,
      portMin: 30000,
      portMax: 30100,
      interface: ['pub/127.0.0.1', 'pub/::1'],
      logger: silentLogger,
    });
    expect(args).toEqual(
      expect.arrayContaining([
        '--config-file=none',
        '--interface=pub/127.0.0.1',
        '--interface=pub/::1',
        '--listen-ng=127.0.0.1:22222',
        '--port-min=30000',
        '--port-max=30100',
        '--table=-1',
        '--delete-delay=0',
        '--foreground',
      ]),
    );
    expect(() =>
      localRtpengineArgs({
        ngPort: 1,
        portMin: 40000,
        portMax: 30000,
        interface: '127.0.0.1',
        logger: silentLogger,
      }),
    ).toThrow(/port range/);
  });
});

describe('startLocalRtpengine', () => {
  it('SIGKILLs a child that ignores SIGTERM, after the bounded wait, when it never answers ping', async () => {
    const pidFile = join(scratch, 'fake.pid');
    mkdirSync(join(scratch, 'fakebin'), { recursive: true });
    const fake = join(scratch, 'fakebin', 'rtpengine');
    writeFileSync(fake, `#!/bin/sh\necho $$ > ${pidFile}\ntrap '' TERM\nwhile true; do sleep 0.1; done\n`);
    chmodSync(fake, 0o755);
    const error = await startLocalRtpengine({
      binary: fake,
      ngPort: 22307,
      portMin: 32400,
      portMax: 32499,
      interface: '127.0.0.1',
      logger: silentLogger,
      startTimeoutMs: 500,
      stopTimeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unavailable' });
    expect(String((error as Error).message)).toMatch(/did not start/);
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('refuses an NG port that is already in use', async () => {
    const busy = createSocket('udp4');
    await new Promise<void>((r) => busy.bind(22308, '127.0.0.1', () => r()));
    try {
      await expect(
        startLocalRtpengine({
          ngPort: 22308,
          portMin: 32400,
          portMax: 32499,
          interface: '127.0.0.1',
          logger: silentLogger,
        }),
      ).rejects.toMatchObject({ code: 'invalid-config' });
    } finally {
      busy.close();
    }
  });
});

describe("an NG port taken between our choice and rtpengine's bind", () => {
  /** An rtpengine whose first start loses its NG port to another program, as a busy machine makes it. */
  function racingRtpengine(name: string): { binary: string; firstTry: string } {
    const dir = join(scratch, name);
    mkdirSync(dir, { recursive: true });
    const binary = join(dir, 'rtpengine');
    const firstTry = join(dir, 'first-try');
    const real = detectRtpengine();
    writeFileSync(
      binary,
      `#!/bin/sh\nif [ ! -e ${firstTry} ]; then\n  touch ${firstTry}\n` +
        `  echo "CRIT: [core] Fatal error: Failed to open UDP NG control connection port (127.0.0.1:1): Address already in use" >&2\n` +
        `  exit 255\nfi\nexec ${real} "$@"\n`,
    );
    chmodSync(binary, 0o755);
    return { binary, firstTry };
  }

  it('is replaced by another port when we chose it', async () => {
    const { binary, firstTry } = racingRtpengine('race-chosen');
    const local = await startLocalRtpengine({
      binary,
      portMin: 32500,
      portMax: 32599,
      interface: '127.0.0.1',
      logger: silentLogger,
    });
    try {
      expect(readFileSync(firstTry, 'utf8')).toBe('');
      expect(alive(local.pid)).toBe(true);
    } finally {
      await local.stop();
    }
  });

  it('fails the start when the operator chose it', async () => {
    const { binary } = racingRtpengine('race-configured');
    await expect(
      startLocalRtpengine({
        binary,
        ngPort: 22309,
        portMin: 32600,
        portMax: 32699,
        interface: '127.0.0.1',
        logger: silentLogger,
      }),
    ).rejects.toThrow(/Address already in use/);
  });
});

describe('an NG port another rtpengine answers on while ours fails to bind it', () => {
  it('is not taken for ours: the launcher stops its child and starts on another port', async () => {
    const dir = join(scratch, 'race-answered');
    mkdirSync(dir, { recursive: true });
    const binary = join(dir, 'rtpengine');
    const firstTry = join(dir, 'first-try');
    const otherPid = join(dir, 'other.pid');
    // First start: another rtpengine comes up on the same NG port (as a second launcher's would) and
    // answers ping, while this one takes 5 s to fail its bind.
    writeFileSync(
      binary,
      `#!/bin/sh\nif [ ! -e ${firstTry} ]; then\n  echo "$@" > ${firstTry}\n` +
        `  ${detectRtpengine()} "$@" &\n  echo $! > ${otherPid}\n  sleep 5\n` +
        `  echo "CRIT: [core] Fatal error: Failed to open UDP NG control connection port: Address already in use" >&2\n` +
        `  exit 255\nfi\nexec ${detectRtpengine()} "$@"\n`,
    );
    chmodSync(binary, 0o755);
    let local: Awaited<ReturnType<typeof startLocalRtpengine>> | undefined;
    try {
      local = await startLocalRtpengine({
        binary,
        portMin: 32700,
        portMax: 32799,
        interface: '127.0.0.1',
        logger: silentLogger,
      });
      const otherPort = Number(/--listen-ng=127\.0\.0\.1:(\d+)/.exec(readFileSync(firstTry, 'utf8'))?.[1]);
      expect(otherPort).toBeGreaterThan(0);
      expect(local.port).not.toBe(otherPort);
      expect(await udpPortOwner(local.port, local.pid)).toBe('process');
      expect(await udpPortOwner(otherPort, local.pid)).toBe('another');
    } finally {
      await local?.stop();
      process.kill(Number(readFileSync(otherPid, 'utf8')), 'SIGKILL');
    }
  });
});

describe('udpPortOwner', () => {
  it("tells this process's socket from another's, and a port nobody holds", async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const { port } = socket.address();
    try {
      expect(await udpPortOwner(port, process.pid)).toBe('process');
      expect(await udpPortOwner(port, process.ppid)).toBe('another');
    } finally {
      await new Promise<void>((r) => socket.close(() => r()));
    }
    expect(await udpPortOwner(port, process.pid)).toBe('unknown');
  });
});

/** A process that started a local rtpengine in `dataDir`; resolves with both pids once it runs. */
function startOwner(dataDir: string, ngPort: number, portMin: number, portMax: number) {
  const owner = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./support/rtpengine-owner.ts', import.meta.url)),
      dataDir,
      String(ngPort),
      String(portMin),
      String(portMax),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => owner.once('exit', () => resolve()));
  const started = new Promise<number>((resolve, reject) => {
    let out = '';
    owner.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { rtpenginePid: number }).rtpenginePid);
    });
    void exited.then(() => reject(new Error(`the owner exited before starting rtpengine: ${out}`)));
  });
  return { owner, started, exited };
}

describe('an rtpengine left running by a killed launcher', () => {
  it('is found through the pid file and stopped before the next start', async () => {
    const dataDir = mkdtempSync(join(scratch, 'orphan-'));
    const { owner, started, exited } = startOwner(dataDir, 22311, 32500, 32599);
    const orphan = await started;
    owner.kill('SIGKILL');
    await exited;
    // Its parent is gone, it is not: it still holds its NG port (and would hold its calls' RTP ports).
    expect((await processCommandLine(orphan))?.[0]).toMatch(/rtpengine$/);
    expect(await udpFree(22311)).toBe(false);

    const next = await startLocalRtpengine({
      dataDir,
      ngPort: 22312,
      portMin: 32500,
      portMax: 32599,
      interface: '127.0.0.1',
      logger: silentLogger,
    });
    try {
      expect(await processCommandLine(orphan)).toBeUndefined();
      expect(await udpFree(22311)).toBe(true);
      expect(JSON.parse(readFileSync(rtpenginePidFile(dataDir), 'utf8')).pid).toBe(next.pid);
    } finally {
      await next.stop();
    }
    // A clean stop leaves no pid file behind.
    expect(() => readFileSync(rtpenginePidFile(dataDir), 'utf8')).toThrow(/ENOENT/);
  });

  it('leaves alone a process whose command line is not the one the pid file recorded', async () => {
    const dataDir = mkdtempSync(join(scratch, 'reused-'));
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(
        rtpenginePidFile(dataDir),
        JSON.stringify({ pid: stranger.pid, argv: ['/usr/bin/rtpengine', '--config-file=none'] }),
      );
      const next = await startLocalRtpengine({
        dataDir,
        ngPort: 22313,
        portMin: 32500,
        portMax: 32599,
        interface: '127.0.0.1',
        logger: silentLogger,
      });
      await next.stop();
      expect(alive(stranger.pid!)).toBe(true);
    } finally {
      stranger.kill('SIGKILL');
    }
  });
});

describe('resolveMediaConfig', () => {
  it('RTPENGINE_NG set: a pool over the listed instances', async () => {
    const resolved = await resolveMediaConfig('127.0.0.1:22396=2,127.0.0.1:22397', silentLogger, {
      pool: { healthIntervalMs: 0 },
    });
    try {
      expect(resolved.mode).toBe('pool');
      expect(resolved.media).toBeInstanceOf(RtpengineMedia);
      expect(resolved.ngAddresses).toEqual(['127.0.0.1:22396', '127.0.0.1:22397']);
      expect(resolved.media.health().map((h) => h.weight)).toEqual([2, 1]);
    } finally {
      await resolved.stop();
    }
  });

  it('unset and rtpengine installed: starts a local rtpengine, relays, and stops it on shutdown', async () => {
    const resolved = await resolveMediaConfig(undefined, silentLogger, {
      local: { ngPort: 22306, portMin: 32300, portMax: 32399, interface: '127.0.0.1' },
      pool: { healthIntervalMs: 0 },
    });
    let stopped = false;
    try {
      expect(resolved.mode).toBe('local');
      expect(resolved.ngAddresses).toEqual(['127.0.0.1:22306']);
      const { sdp: rewritten, session } = await resolved.media.offer(offerRequest);
      const port = mLines(rewritten)[0]!.port;
      expect(port).toBeGreaterThanOrEqual(32300);
      expect(port).toBeLessThanOrEqual(32399);
      await session.end();
      await resolved.stop();
      stopped = true;
      expect(await udpFree(22306)).toBe(true);
    } finally {
      if (!stopped) await resolved.stop();
    }
  });

  it('unset and not installed: NullMedia passes SDP through unchanged and warns once', async () => {
    const messages: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => messages.push(line) });
    const resolved = await resolveMediaConfig(undefined, logger, { pathEnv: `${scratch}-nothing-here` });
    expect(resolved.mode).toBe('none');
    expect(resolved.media).toBeInstanceOf(NullMedia);
    expect(resolved.media.anchored).toBe(false);
    const { sdp: rewritten, session } = await resolved.media.offer(offerRequest);
    expect(rewritten).toBe(offerRequest.sdp);
    const { sdp: answer } = await session.answer({ toTag: 'b', sdp: offerRequest.sdp });
    expect(lines(answer, 'c=')).toEqual(['c=IN IP4 127.0.0.1']);
    await expect(session.playDtmf({ code: '1' })).rejects.toMatchObject({ code: 'unsupported' });
    expect(await session.end()).toBeNull();
    expect(await session.end()).toBeNull();
    new NullMedia(logger);
    await resolveMediaConfig(undefined, logger, { pathEnv: '' });
    expect(messages.filter((m) => m.includes('no media anchoring')).length).toBe(1);
    await resolved.stop();
  });
});
