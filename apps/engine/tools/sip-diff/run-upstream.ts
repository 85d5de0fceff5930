import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { allocatePort, type SippRun, startSipp } from '@switchboard/testkit';
import type { CaptureSet } from './capture.ts';
import { type ScenarioWindow, splitCapture } from './scenarios.ts';
import { captureLoopback } from './tcpdump.ts';

/**
 * drachtio-srf's own test suite (as the engine's upstream layer lays it out) against a pair of servers, one
 * capture window per upstream file. The upstream layer's modules are imported only after UPSTREAM_SIP_PORT
 * is set: its topology reads the port when loaded.
 */

export interface UpstreamRunOptions {
  server: 'engine' | 'drachtio-server';
  sipPort: number;
  uacPortBase: number;
  referenceBin?: string;
  log: (line: string) => void;
}

const SECRET = 'cymru-upstream-suite';
/** The suite's test files and how long each may take (the upstream layer's own list, in its order). */
const FILES: Array<{ file: string; limitS: number }> = [
  { file: 'proxy.js', limitS: 70 },
  { file: 'reinvite-tests.js', limitS: 30 },
  { file: 'refer.js', limitS: 30 },
  { file: 'uac.js', limitS: 90 },
  { file: 'uas.js', limitS: 90 },
  { file: 'b2b.js', limitS: 190 },
];

interface Server {
  adminPort: number;
  close(): Promise<void>;
}

async function startServer(options: UpstreamRunOptions, address: string): Promise<Server> {
  if (options.server === 'drachtio-server') {
    const { startReferenceServer } = await import('../../test/differential/reference-server.ts');
    if (!options.referenceBin) throw new Error('the reference run needs DRACHTIO_SERVER_BIN');
    const adminPort = await allocatePort({ tcp: true, min: 24000, max: 24999 });
    return startReferenceServer({
      bin: options.referenceBin,
      sipAddress: address,
      sipPort: options.sipPort,
      transports: ['udp'],
      adminPort,
      secret: SECRET,
    });
  }
  const { startEngine } = await import('../../src/engine.ts');
  const { silentLogger } = await import('../../test/helpers.ts');
  const engine = await startEngine(
    {
      sipListen: [{ transport: 'udp', host: address, port: options.sipPort, advertisedAddress: address }],
      engineAdmin: { host: '127.0.0.1', port: 0 },
      engineSecret: SECRET,
    },
    { logger: silentLogger },
  );
  return { adminPort: engine.adminAddress.port, close: () => engine.close() };
}

export async function runUpstream(options: UpstreamRunOptions): Promise<CaptureSet & { failed: string[] }> {
  process.env.UPSTREAM_SIP_PORT = String(options.sipPort);
  const topology = await import('../../test/upstream/topology.ts');
  const { prepareSuite } = await import('../../test/upstream/prepare.ts');
  const { runTapFile } = await import('../../test/upstream/tap.ts');
  const servers = [
    await startServer(options, topology.SUT_ADDRESS),
    await startServer(options, topology.UAS_ENGINE_ADDRESS),
  ];
  const [sut, uas] = servers as [Server, Server];
  const suite = prepareSuite({
    sut: { host: '127.0.0.1', port: sut.adminPort, secret: SECRET },
    uas: { host: '127.0.0.1', port: uas.adminPort, secret: SECRET },
  });
  const hosts: SippRun[] = [];
  const roles: Record<string, string> = {
    [`${topology.SUT_ADDRESS}:${options.sipPort}`]: 'drachtio-sut',
    [`${topology.UAS_ENGINE_ADDRESS}:${options.sipPort}`]: 'drachtio-uas',
  };
  const filter = `net 127.29.0.0/16 and (port ${options.sipPort} or portrange ${options.uacPortBase}-${options.uacPortBase + 1999})`;
  const capture = await captureLoopback(filter);
  const windows: ScenarioWindow[] = [];
  const failed: string[] = [];
  try {
    for (const host of topology.SIPP_UAS_HOSTS) {
      roles[`${host.address}:${options.sipPort}`] = host.name;
      if (!host.scenario) continue;
      hosts.push(
        startSipp({
          scenario: join(suite.testDir, 'scenarios', host.scenario),
          localAddress: host.address,
          port: options.sipPort,
          calls: 1000,
          timeoutS: 900,
        }),
      );
    }
    await Promise.all(hosts.map((run) => run.listening(20_000)));
    let uacPortBase = options.uacPortBase;
    for (const { file, limitS } of FILES) {
      const start = Date.now() / 1000;
      const env = {
        ...suite.env,
        UPSTREAM_SUT: `${topology.SUT_ADDRESS}:${options.sipPort}`,
        UPSTREAM_UAC_ADDRESS: topology.UAC_ADDRESS,
        UPSTREAM_UAC_PORT_BASE: String(uacPortBase),
      };
      uacPortBase += 200;
      const run = await runTapFile([file], { cwd: suite.testDir, env, limitMs: limitS * 1000 });
      options.log(
        `upstream ${file} on ${options.server}: ${run.passed.length} passed, ${run.failed.length} failed, exit ${run.exit}`,
      );
      failed.push(...run.failed.map((f) => `${file}: ${f}`));
      if (run.exit !== 0) failed.push(`${file}: exit ${run.exit}`);
      // the sipp UACs of a file take ports from its base in steps of 4 (sipp.cjs), the same in both runs
      const uacs: Record<string, string> = {};
      for (let k = 0; k < 50; k++)
        uacs[`${topology.UAC_ADDRESS}:${uacPortBase - 200 + 4 * k}`] = `uac${k + 1}`;
      windows.push({
        scenario: `upstream: ${file}`,
        start,
        end: Date.now() / 1000,
        endpoints: [],
        roles: { ...roles, ...uacs },
      });
    }
  } finally {
    for (const run of hosts) run.stop();
    for (const server of servers) await server.close();
    rmSync(dirname(dirname(suite.testDir)), { recursive: true, force: true });
  }
  const messages = await capture.stop();
  return { server: options.server, scenarios: splitCapture(messages, windows), failed };
}
