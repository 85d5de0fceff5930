import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostMap, SIP_PORT } from './topology.ts';

/**
 * Lays out drachtio-srf's own test folder, from the pinned npm package, so that it runs against our engines on
 * loopback. The edits, and only these, are applied to a copy (the package itself is never touched):
 *
 * 1. Host names of the docker network (`sipp-uas`, `sipp-uas-prack`, ...) become `address:port` of the
 *    loopback test bed, and `172.29.0.N` addresses become `127.29.0.N:port` (topology.ts), in the test
 *    scripts and in the scenario files.
 * 2. `test/sipp.js` (docker run drachtio/sipp) is replaced by `sipp.cjs` beside this file: the local sipp
 *    with the same exports.
 * 3. Three scenarios (uas-reinvite.xml, uas-reinvite-with-auth.xml, uas-update-with-sdp.xml) have a literal
 *    `<` in a regexp attribute, which is not well-formed XML: the sipp of the docker image reads it, Debian's
 *    sipp 3.6 refuses the file. It is written `&lt;`, which means the same character.
 * 4. uas.js disconnects its SUBSCRIBE app as soon as sipp exits, while the 200 to the app's last NOTIFY may
 *    still be on its way to the app (sipp sends it, then exits); on a loaded machine the app is gone
 *    before it arrives and the file's eighth assertion is never printed. The copy waits a second before
 *    that disconnect (`settleBeforeSubscribeDisconnect`); no assertion changes.
 *
 * The drachtio servers' addresses and secret come from the `config` package's file (NODE_CONFIG_DIR), as
 * upstream's own config/test.json provides them; no test file is edited for that.
 */

const require = createRequire(import.meta.url);

/** The installed drachtio-srf package (its real path: lib and dependencies resolve from there). */
export const SRF_DIR = dirname(require.resolve('drachtio-srf/package.json'));
const ENGINE_NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));

export interface ServerConfig {
  host: string;
  port: number;
  secret: string;
}

export interface PreparedSuite {
  /** The copy of drachtio-srf's `test/` folder. */
  testDir: string;
  /** Environment for running an upstream test file. */
  env: NodeJS.ProcessEnv;
}

/** `sip:sipp-uas` -> `sip:127.29.0.13:29060`, `172.29.0.25` -> `127.29.0.25:29060`. */
export function replaceHosts(text: string, hosts = hostMap()): string {
  return text
    .replace(/\bsipp-uas(?:-[a-z0-9]+)*\b/g, (name) => {
      const target = hosts.get(name);
      if (!target) throw new Error(`no loopback address for upstream host ${name}`);
      return target;
    })
    .replace(/\b172\.29\.0\.(\d{1,3})\b/g, (_m, octet: string) => `127.29.0.${octet}:${SIP_PORT}`);
}

/** uas.js, edit 4: wait before disconnecting the SUBSCRIBE app, so its last NOTIFY's answer can arrive. */
export function settleBeforeSubscribeDisconnect(uasJs: string): string {
  const disconnect = `    .then(() => {
      uas.disconnect();
      return new Promise((resolve, reject) => {
        setTimeout(() => {
          resolve();
        }, 100);`;
  if (uasJs.split(disconnect).length !== 2)
    throw new Error('uas.js: the SUBSCRIBE disconnect was not found once');
  return uasJs.replace(
    disconnect,
    `    .then(() => new Promise((resolve) => setTimeout(resolve, 1000)))
${disconnect}`,
  );
}

/** A `<` inside a regexp attribute is not XML; `&lt;` is the same character for any XML reader. */
export function escapeRegexpAttributes(xml: string): string {
  return xml.replace(/regexp="([^"]*)"/g, (_m, value: string) => `regexp="${value.replace(/</g, '&lt;')}"`);
}

export function prepareSuite(servers: { sut: ServerConfig; uas: ServerConfig }): PreparedSuite {
  const root = mkdtempSync(join(tmpdir(), 'drachtio-srf-upstream-'));
  const pkg = join(root, 'drachtio-srf');
  mkdirSync(pkg);
  // `require('..')` from the tests and `../../lib/...` from the unit tests reach the installed package.
  writeFileSync(join(pkg, 'package.json'), readFileSync(join(SRF_DIR, 'package.json')));
  symlinkSync(join(SRF_DIR, 'lib'), join(pkg, 'lib'), 'dir');
  const testDir = join(pkg, 'test');
  cpSync(join(SRF_DIR, 'test'), testDir, { recursive: true });

  for (const dir of [testDir, join(testDir, 'scripts')]) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
      const path = join(dir, file);
      writeFileSync(path, replaceHosts(readFileSync(path, 'utf8')));
    }
  }
  const uasJs = join(testDir, 'uas.js');
  writeFileSync(uasJs, settleBeforeSubscribeDisconnect(readFileSync(uasJs, 'utf8')));
  cpSync(fileURLToPath(new URL('./sipp.cjs', import.meta.url)), join(testDir, 'sipp.js'));
  const scenarios = join(testDir, 'scenarios');
  for (const file of readdirSync(scenarios).filter((f) => f.endsWith('.xml'))) {
    const path = join(scenarios, file);
    writeFileSync(path, escapeRegexpAttributes(replaceHosts(readFileSync(path, 'utf8'))));
  }

  const configDir = join(root, 'config');
  mkdirSync(configDir);
  writeFileSync(
    join(configDir, 'test.json'),
    JSON.stringify({
      logger: { level: 'fatal' },
      'drachtio-sut': { ...servers.sut, enablePing: true, pingInterval: 5000 },
      'drachtio-uas': servers.uas,
    }),
  );
  return {
    testDir,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      NODE_CONFIG_DIR: configDir,
      // tape, config, mocha, should (our devDependencies) and drachtio-srf's own dependencies (debug).
      NODE_PATH: [ENGINE_NODE_MODULES, dirname(SRF_DIR)].join(':'),
    },
  };
}
