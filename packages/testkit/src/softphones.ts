import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectControl } from './baresip-control.ts';
import { allocatePort as allocate } from './ports.ts';

/**
 * A port for a softphone, free on every address (the wildcard check fails when any address holds it):
 * baresip and linphonec bind their RTP sockets to the wildcard, so a port free on 127.0.0.1 alone can
 * still be taken for them.
 */
export const allocatePort = (): Promise<number> => allocate({ address: '0.0.0.0' });
/**
 * A port free for UDP and TCP: baresip's `sip_listen` binds both, and its `ctrl_tcp_listen` is TCP (a
 * UDP-only check once handed out a port whose TCP side was taken, and baresip did not start).
 */
export const allocateUdpTcpPort = (): Promise<number> => allocate({ address: '0.0.0.0', tcp: true });
/** An even RTP port and the RTCP port above it, both free (a softphone binds the pair). */
const allocateRtpPair = (): Promise<number> => allocate({ address: '0.0.0.0', count: 2, even: true });

export interface Softphone {
  /** Output so far (for failure messages). */
  output(): string;
  /** SIGKILL (linphonec ignores gentler signals) and remove its files. */
  stop(): void;
}

/** What a softphone reports about its (single) call. */
/** `dtmf`: a key received (baresip reports RFC 4733 telephone-events as CALL_DTMF_START). */
export type CallEvent = 'incoming' | 'established' | 'closed' | 'dtmf';

/** A softphone that places and answers calls, sending a WAV file as its audio and recording what it receives. */
export interface CallingSoftphone extends Softphone {
  /** Calls `uri` (through the account's proxy). */
  dial(uri: string): void;
  /** Hangs up the current call. */
  hangup(): void;
  /**
   * Resolves on the next occurrence of `event` not yet waited for (occurrences since start count),
   * rejects after `timeoutMs` with the phone's output.
   */
  waitFor(event: CallEvent, timeoutMs?: number): Promise<void>;
  /** The WAV file with the audio received from the far end; complete once the call is closed. */
  recording(): string;
  /** The DTMF keys received so far, in order (baresip: from its CALL_DTMF_START events). */
  dtmfKeys?(): string[];
  /**
   * Sends DTMF keys in the call, one every `gapMs`: as RFC 4733 telephone-events (baresip), or as
   * `PhoneAudio.dtmf` says (linphonec).
   */
  sendDigits?(digits: string, gapMs?: number): Promise<void>;
}

export interface PhoneAccount {
  user: string;
  domain: string;
  password: string;
  /** `host:port` of the engine's UDP listener (or of its TCP/TLS listener with that `transport`). */
  registrar: string;
  expires?: number;
  /** SIP transport to register and call over (baresip only; default udp). */
  transport?: 'udp' | 'tcp' | 'tls';
  /**
   * Media encryption (baresip's `mediaenc`, baresip only): `srtp-mand` offers and takes only SDES-SRTP
   * (RTP/SAVP with a=crypto, RFC 4568). Default: plain RTP.
   */
  mediaenc?: 'srtp' | 'srtp-mand';
  /** PEM file of the CA baresip trusts for the registrar's TLS certificate (`sip_cafile`). */
  caFile?: string;
  /** Loopback address the phone binds SIP and RTP to (baresip only; default 127.0.0.1). */
  address?: string;
}

export interface PhoneAudio {
  /** WAV file (8 kHz, 16-bit mono) sent as the microphone; incoming calls are answered automatically. */
  play: string;
  /** `manual`: incoming calls ring and are not answered (another device of the account answers). */
  answer?: 'auto' | 'manual';
  /** baresip's codec modules, in the order offered (default `['g711']`); e.g. `['opus']` offers Opus only. */
  codecs?: Array<'g711' | 'opus' | 'g722'>;
  /**
   * How linphonec sends keys (linphonec only): `info` as SIP INFO `application/dtmf-relay`
   * (liblinphone's `use_info=1`, `use_rfc2833=0`); default RFC 4733 telephone-events.
   */
  dtmf?: 'rfc4733' | 'info';
}

export interface Process extends Softphone {
  child: ChildProcess;
  /** Calls `listener` with each chunk of stdout and stderr. */
  onOutput(listener: (text: string) => void): void;
}

/** Seconds after which a phone is killed even if its test never stopped it (a crashed test runner). */
const MAX_LIFETIME_S = 300;

/**
 * Runs the phone under coreutils' `timeout` in a process group of its own, so that `stop` (and the
 * lifetime bound) kill the phone together with its wrapper.
 */
export function run(
  command: string,
  args: string[],
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): Process {
  const child: ChildProcess = spawn('timeout', ['-s', 'KILL', String(MAX_LIFETIME_S), command, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: dir,
    env,
    detached: true,
  });
  let output = '';
  const listeners: ((text: string) => void)[] = [];
  const collect = (data: Buffer): void => {
    const text = data.toString();
    output = (output + text).slice(-20_000);
    for (const listener of listeners) listener(text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.on('error', (error) => collect(Buffer.from(String(error))));
  return {
    child,
    onOutput: (listener) => listeners.push(listener),
    output: () => output,
    stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // The group is already gone.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Occurrences of call events, each handed to one `waitFor`. */
class CallEvents {
  private readonly seen = new Map<CallEvent, number>();
  private readonly waiting: { event: CallEvent; resolve: () => void }[] = [];

  constructor(private readonly output: () => string) {}

  record(event: CallEvent): void {
    const index = this.waiting.findIndex((w) => w.event === event);
    if (index >= 0) this.waiting.splice(index, 1)[0]?.resolve();
    else this.seen.set(event, (this.seen.get(event) ?? 0) + 1);
  }

  waitFor(event: CallEvent, timeoutMs: number): Promise<void> {
    const pending = this.seen.get(event) ?? 0;
    if (pending > 0) {
      this.seen.set(event, pending - 1);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const entry = {
        event,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        reject(new Error(`no ${event} within ${timeoutMs} ms:\n${this.output().slice(-4000)}`));
      }, timeoutMs);
      this.waiting.push(entry);
    });
  }
}

/** baresip 1.0, headless, one account registering through `registrar` as outbound proxy. */
export async function startBaresip(account: PhoneAccount): Promise<Softphone>;
/** The same, also sending `audio.play`, recording what it receives and scripted over ctrl_tcp. */
export async function startBaresip(account: PhoneAccount, audio: PhoneAudio): Promise<CallingSoftphone>;
export async function startBaresip(
  account: PhoneAccount,
  audio?: PhoneAudio,
): Promise<Softphone | CallingSoftphone> {
  const dir = mkdtempSync(join(tmpdir(), 'sipcore-baresip-'));
  const port = await allocateUdpTcpPort();
  const address = account.address ?? '127.0.0.1';
  const config = ['poll_method epoll', `sip_listen ${address}:${port}`, `net_interface ${address}`];
  let accountParams = '';
  let control = 0;
  const transport = account.transport ?? 'udp';
  if (account.caFile) config.push(`sip_cafile ${account.caFile}`);
  const mediaModules = account.mediaenc ? ['module srtp.so'] : [];
  if (audio) {
    control = await allocateUdpTcpPort();
    const rtp = await allocateRtpPair();
    config.push(
      `audio_source aufile,${audio.play}`,
      'audio_player aubridge,nil',
      `rtp_ports ${rtp}-${rtp + 1}`,
      // sndfile dumps each call's encoded and decoded audio: dump-<time>-dec.wav is what was received.
      `snd_path ${dir}`,
      `ctrl_tcp_listen 127.0.0.1:${control}`,
      'module_path /usr/lib/baresip/modules',
      ...(audio.codecs ?? ['g711']).map((codec) => `module ${codec}.so`),
      // The WAV is 8 kHz mono: baresip resamples it to a wideband codec's rate and channels.
      ...(audio.codecs && !audio.codecs.includes('g711') ? ['ausrc_srate 8000', 'ausrc_channels 1'] : []),
      'module aufile.so',
      'module aubridge.so',
      'module sndfile.so',
      ...mediaModules,
      'module_app account.so',
      // menu provides the dial/hangup commands and auto-answer; ctrl_tcp only carries them.
      'module_app menu.so',
      'module_app ctrl_tcp.so',
    );
    accountParams = `;answermode=${audio.answer ?? 'auto'}`;
  } else {
    config.push(
      'audio_player aubridge,nil',
      'audio_source aubridge,nil',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aubridge.so',
      ...mediaModules,
      'module_app account.so',
    );
  }
  if (account.mediaenc) accountParams += `;mediaenc=${account.mediaenc}`;
  writeFileSync(join(dir, 'config'), `${config.join('\n')}\n`);
  writeFileSync(
    join(dir, 'accounts'),
    `<sip:${account.user}@${account.domain};transport=${transport}>;auth_pass=${account.password};outbound="sip:${account.registrar};transport=${transport}";regint=${account.expires ?? 300}${accountParams}\n`,
  );
  const phone = run('baresip', ['-f', dir], dir);
  if (!audio) return phone;
  try {
    return await controlBaresip(phone, control, dir);
  } catch (error) {
    phone.stop();
    throw error;
  }
}

/** Scripts a baresip over its ctrl_tcp, its call events counted for `waitFor`. */
async function controlBaresip(phone: Process, port: number, dir: string): Promise<CallingSoftphone> {
  const events = new CallEvents(phone.output);
  const types: Record<string, CallEvent> = {
    CALL_INCOMING: 'incoming',
    CALL_ESTABLISHED: 'established',
    CALL_CLOSED: 'closed',
    CALL_DTMF_START: 'dtmf',
  };
  const keys: string[] = [];
  const { send, close } = await connectControl(phone, port, (type, param) => {
    const event = types[type];
    if (event === 'dtmf' && param) keys.push(param);
    if (event) events.record(event);
  });
  return {
    output: phone.output,
    stop() {
      close();
      phone.stop();
    },
    dial: (uri) => send('dial', uri),
    hangup: () => send('hangup'),
    dtmfKeys: () => [...keys],
    // menu's `sndcode`: baresip sends the key as telephone-events when the answer has them.
    async sendDigits(digits, gapMs = 400) {
      for (const digit of digits) {
        send('sndcode', digit);
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
    },
    waitFor: (event, timeoutMs = 15_000) => events.waitFor(event, timeoutMs),
    recording() {
      const file = readdirSync(dir)
        .filter((name) => name.endsWith('-dec.wav'))
        .sort()
        .pop();
      if (!file) throw new Error(`baresip recorded nothing:\n${phone.output().slice(-3000)}`);
      return join(dir, file);
    },
  };
}

/** linphonec 5.1, headless, one proxy config registering at `registrar`. */
/**
 * linphonec with no account of its own, only `[misc] config-uri`: at start it fetches its configuration
 * (Linphone remote-provisioning XML) from `configUri` and registers with the account found there.
 */
export async function startLinphonecProvisioned(configUri: string): Promise<Softphone> {
  const dir = mkdtempSync(join(tmpdir(), 'sipcore-linphonec-'));
  const rc = join(dir, 'linphonerc');
  writeFileSync(
    rc,
    [
      '[sip]',
      'use_ipv6=0',
      'bind_address=127.0.0.1',
      `sip_port=${await allocatePort()}`,
      'sip_tcp_port=-1',
      'sip_tls_port=-1',
      '',
      '[misc]',
      `config-uri=${configUri}`,
      '',
      '[sound]',
      'echocancellation=0',
      '',
    ].join('\n'),
  );
  const home = join(dir, 'home');
  mkdirSync(join(home, '.local', 'share', 'linphone'), { recursive: true });
  return run('linphonec', ['-c', rc, '-d', '0'], dir, { ...process.env, HOME: home });
}

export async function startLinphonec(account: PhoneAccount): Promise<Softphone>;
/** The same, in file mode: sends `audio.play`, records what it receives, scripted on stdin. */
export async function startLinphonec(account: PhoneAccount, audio: PhoneAudio): Promise<CallingSoftphone>;
export async function startLinphonec(
  account: PhoneAccount,
  audio?: PhoneAudio,
): Promise<Softphone | CallingSoftphone> {
  const dir = mkdtempSync(join(tmpdir(), 'sipcore-linphonec-'));
  const port = await allocatePort();
  const rc = join(dir, 'linphonerc');
  const rtp = audio ? ['[rtp]', `audio_rtp_port=${await allocateRtpPair()}`, ''] : [];
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
      ...(audio?.dtmf === 'info' ? ['use_info=1', 'use_rfc2833=0'] : []),
      '',
      '[proxy_0]',
      `reg_proxy=<sip:${account.registrar};transport=udp>`,
      // Calls go through the registrar too (an outbound proxy), not to the domain's DNS records.
      `reg_route=<sip:${account.registrar};transport=udp;lr>`,
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
      ...rtp,
    ].join('\n'),
  );
  // liblinphone does not start its SIP stack until it could open its database under $HOME.
  const home = join(dir, 'home');
  mkdirSync(join(home, '.local', 'share', 'linphone'), { recursive: true });
  const phone = run('linphonec', ['-c', rc, '-d', '0'], dir, { ...process.env, HOME: home });
  if (!audio) return phone;
  const recording = join(dir, 'received.wav');
  const send = (line: string): void => {
    phone.child.stdin?.write(`${line}\n`);
  };
  const events = new CallEvents(phone.output);
  let lines = '';
  phone.onOutput((text) => {
    lines += text;
    const complete = lines.split('\n');
    lines = complete.pop() ?? '';
    for (const line of complete) {
      // linphonec's call state lines, e.g. "Call 1 with <sip:bob@example.test> connected."
      if (/Receiving new incoming call/.test(line)) events.record('incoming');
      else if (/^Call \d+ .* connected\./.test(line.replace(/^linphonec> /, '')))
        events.record('established');
      else if (/^Call \d+ .* ended/.test(line.replace(/^linphonec> /, ''))) events.record('closed');
    }
  });
  // File mode: the play file replaces the microphone, the record file the speaker.
  send('soundcard use files');
  send(`play ${audio.play}`);
  send(`record ${recording}`);
  send('autoanswer enable');
  return {
    output: phone.output,
    stop: phone.stop,
    dial: (uri) => send(`call ${uri}`),
    hangup: () => send('terminate'),
    waitFor: (event, timeoutMs = 15_000) => events.waitFor(event, timeoutMs),
    recording: () => recording,
    // linphonec sends a line of DTMF characters typed during a call as keys.
    async sendDigits(digits, gapMs = 400) {
      for (const digit of digits) {
        send(digit);
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
    },
  };
}
