import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocatePort } from './sipp.ts';

export interface Softphone {
  /** Output so far (for failure messages). */
  output(): string;
  /** SIGKILL (linphonec ignores gentler signals) and remove its files. */
  stop(): void;
}

export interface PhoneAccount {
  user: string;
  domain: string;
  password: string;
  /** `host:port` of the engine's UDP listener. */
  registrar: string;
  expires?: number;
}

function run(command: string, args: string[], dir: string, env: NodeJS.ProcessEnv = process.env): Softphone {
  const child: ChildProcess = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: dir, env });
  let output = '';
  const collect = (data: Buffer): void => {
    output = (output + data.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.on('error', (error) => collect(Buffer.from(String(error))));
  return {
    output: () => output,
    stop() {
      if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** baresip 1.0, headless, one account registering through `registrar` as outbound proxy. */
export async function startBaresip(account: PhoneAccount): Promise<Softphone> {
  const dir = mkdtempSync(join(tmpdir(), 'sipcore-baresip-'));
  const port = await allocatePort();
  writeFileSync(
    join(dir, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${port}`,
      'net_interface 127.0.0.1',
      'audio_player aubridge,nil',
      'audio_source aubridge,nil',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aubridge.so',
      'module_app account.so',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'accounts'),
    `<sip:${account.user}@${account.domain};transport=udp>;auth_pass=${account.password};outbound="sip:${account.registrar};transport=udp";regint=${account.expires ?? 300}\n`,
  );
  return run('baresip', ['-f', dir], dir);
}

/** linphonec 5.1, headless, one proxy config registering at `registrar`. */
export async function startLinphonec(account: PhoneAccount): Promise<Softphone> {
  const dir = mkdtempSync(join(tmpdir(), 'sipcore-linphonec-'));
  const port = await allocatePort();
  const rc = join(dir, 'linphonerc');
  writeFileSync(
    rc,
    [
      '[sip]',
      'use_ipv6=0',
      'bind_address=127.0.0.1',
      `sip_port=${port}`,
      'sip_tcp_port=-1',
      'sip_tls_port=-1',
      'default_proxy=0',
      '',
      '[proxy_0]',
      `reg_proxy=<sip:${account.registrar};transport=udp>`,
      `reg_identity=sip:${account.user}@${account.domain}`,
      `reg_expires=${account.expires ?? 300}`,
      'reg_sendregister=1',
      'publish=0',
      '',
      '[auth_info_0]',
      `username=${account.user}`,
      `passwd=${account.password}`,
      `realm=${account.domain}`,
      `domain=${account.domain}`,
      '',
      '[sound]',
      'echocancellation=0',
      '',
    ].join('\n'),
  );
  // liblinphone does not start its SIP stack until it could open its database under $HOME.
  const home = join(dir, 'home');
  mkdirSync(join(home, '.local', 'share', 'linphone'), { recursive: true });
  return run('linphonec', ['-c', rc, '-d', '0'], dir, { ...process.env, HOME: home });
}
