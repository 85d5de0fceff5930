import type { SipRequest } from '@switchboard/sip';
import { AdminServer } from '../src/admin/admin-server.ts';
import type { AppConnection } from '../src/admin/app-connection.ts';
import { AppRegistry } from '../src/admin/app-registry.ts';
import { DrachtioBridge } from '../src/bridge/drachtio-bridge.ts';
import { SECRET, silentLogger } from './helpers.ts';
import { LoopbackStack } from './loopback-stack.ts';
import { Srf, type SrfApp } from './srf.ts';

/**
 * The drachtio bridge with the far end played in-process (LoopbackStack) and real drachtio-srf apps connected
 * over the admin protocol. A test file runs `cleanups` after each test.
 */

export const cleanups: Array<() => Promise<void> | void> = [];

export async function setup(
  options: {
    answerOptions?: boolean;
    t1Ms?: number;
    appResponseTimeoutMs?: number;
    minSessionExpires?: number;
    subscriptionGraceSeconds?: number;
  } = {},
) {
  const stack = new LoopbackStack();
  const registry = new AppRegistry<AppConnection>();
  const bridge = new DrachtioBridge({
    stack,
    registry,
    logger: silentLogger,
    answerOptions: options.answerOptions ?? true,
    appResponseTimeoutMs: options.appResponseTimeoutMs ?? 64_000,
    t1Ms: options.t1Ms ?? 500,
    ...(options.minSessionExpires !== undefined ? { minSessionExpires: options.minSessionExpires } : {}),
    ...(options.subscriptionGraceSeconds !== undefined
      ? { subscriptionGraceSeconds: options.subscriptionGraceSeconds }
      : {}),
  });
  const admin = new AdminServer({
    host: '127.0.0.1',
    port: 0,
    secret: SECRET,
    identity: {
      version: 'v0.9.4-test',
      hostports: () => ['udp/192.0.2.1:5060'],
      localHostports: () => ['udp/127.0.0.1:5060'],
    },
    handler: bridge,
    registry,
    logger: silentLogger,
  });
  const address = await admin.listen();
  cleanups.push(async () => {
    bridge.close();
    await admin.close();
  });
  /** `link`: the app connects through an in-process link (as the all-in-one launcher's sip-core does). */
  const connect = async (configure: (srf: SrfApp) => void = () => {}, via: 'socket' | 'link' = 'socket') => {
    const srf = new Srf();
    srf.on('error', () => {});
    configure(srf);
    const connected = new Promise<void>((resolve) => srf.on('connect', () => resolve()));
    const link = via === 'link' ? { socket: admin.linkInProcess() } : {};
    srf.connect({ host: '127.0.0.1', port: address.port, secret: SECRET, ...link });
    await connected;
    cleanups.push(() => {
      try {
        srf.disconnect();
      } catch {
        // already gone
      }
    });
    return srf;
  };
  return { stack, bridge, admin, registry, connect };
}

let seq = 0;
/** An INVITE from the far end to the engine's listener. */
export function inviteFromFarEnd(opts: { callId?: string; extra?: string[]; branch?: string } = {}): string {
  seq++;
  const body =
    'v=0\r\no=far 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
  return [
    'INVITE sip:service@127.0.0.1:5060 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=${opts.branch ?? `z9hG4bKfar${seq}`}`,
    `From: <sip:caller@127.0.0.1:5070>;tag=caller${seq}`,
    'To: <sip:service@127.0.0.1:5060>',
    `Call-ID: ${opts.callId ?? `call-${seq}@far`}`,
    'CSeq: 1 INVITE',
    'Contact: <sip:caller@127.0.0.1:5070>',
    'Max-Forwards: 70',
    ...(opts.extra ?? []),
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** A request from the far end inside the dialog `invite` made, with the engine's To tag. */
export function inDialogFromFarEnd(
  method: string,
  invite: SipRequest,
  toTag: string,
  cseq: number,
  extra: string[] = [],
): string {
  return [
    `${method} sip:service@127.0.0.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK${method.toLowerCase()}${cseq}${seq}`,
    `From: ${invite.getHeader('from')}`,
    `To: ${invite.getHeader('to')};tag=${toTag}`,
    `Call-ID: ${invite.callId}`,
    `CSeq: ${cseq} ${method}`,
    'Max-Forwards: 70',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** An out-of-dialog OPTIONS from the far end. */
export function optionsFromFarEnd(): string {
  seq++;
  return [
    'OPTIONS sip:service@127.0.0.1:5060 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKopt${seq}`,
    `From: <sip:monitor@127.0.0.1>;tag=opt${seq}`,
    'To: <sip:service@127.0.0.1>',
    `Call-ID: opt-${seq}`,
    'CSeq: 7 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
