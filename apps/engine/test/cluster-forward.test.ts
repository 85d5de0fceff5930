import { createSocket, type Socket } from 'node:dgram';
import { encodeFlowToken } from '@switchboard/sip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEngine, startEngine } from '../src/engine.ts';
import { SECRET, silentLogger, waitFor } from './helpers.ts';

/**
 * The cluster step (bridge/cluster-forward.ts) over real UDP sockets: the engine on 127.0.0.2 trusts
 * the peer node 127.0.0.3. An INVITE from the peer whose Route names the engine with a flow token is
 * proxied out on that flow (Route removed, Record-Routed with the token) and the device's answer goes
 * back to the peer; the same INVITE from anyone else, or with a token that does not decode, is not
 * forwarded (no app is attached, so the engine answers 503 itself).
 */

const ENGINE_HOST = '127.0.0.2';
const PEER_HOST = '127.0.0.3';

let engine: RunningEngine;
let enginePort: number;
let device: Socket;
let devicePort: number;
const received: string[] = [];
const sockets: Socket[] = [];

async function bound(host: string): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  sockets.push(socket);
  return socket;
}

/** A socket whose datagrams are collected, as text. */
async function listening(host: string): Promise<{ socket: Socket; messages: string[] }> {
  const socket = await bound(host);
  const messages: string[] = [];
  socket.on('message', (data) => messages.push(data.toString()));
  return { socket, messages };
}

function invite(from: Socket, route: string, callId: string): string {
  const { address, port } = from.address();
  return [
    'INVITE sip:alice@192.0.2.99:5060 SIP/2.0',
    `Via: SIP/2.0/UDP ${address}:${port};branch=z9hG4bK-${callId}`,
    `Route: ${route}`,
    'Max-Forwards: 70',
    `From: <sip:bob@example.test>;tag=${callId}`,
    'To: <sip:alice@example.test>',
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:bob@${address}:${port}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

beforeAll(async () => {
  engine = await startEngine(
    {
      sipListen: [{ transport: 'udp', host: ENGINE_HOST, port: 0 }],
      engineAdmin: { host: '127.0.0.1', port: 0 },
      engineSecret: SECRET,
      clusterPeers: [PEER_HOST],
    },
    { logger: silentLogger },
  );
  enginePort = engine.listeners[0]!.port;
  device = await bound('127.0.0.1');
  devicePort = device.address().port;
  device.on('message', (data) => {
    const text = data.toString();
    received.push(text);
    if (!text.startsWith('INVITE ')) return;
    // The device refuses: its 486 goes back to the Via on top, the engine's.
    const headers = text.split('\r\n');
    const copied = headers.filter((h) => /^(Via|From|To|Call-ID|CSeq):/i.test(h));
    const response = [
      'SIP/2.0 486 Busy Here',
      ...copied.map((h) => (h.startsWith('To:') ? `${h};tag=dev` : h)),
    ];
    const [, host, port] = /^Via: SIP\/2\.0\/UDP ([\d.]+):(\d+)/m.exec(text)!;
    device.send(`${[...response, 'Content-Length: 0', '', ''].join('\r\n')}`, Number(port), host);
  });
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await engine?.close();
});

const flowRoute = () =>
  `<sip:${encodeFlowToken({ transport: 'udp', address: '127.0.0.1', port: devicePort })}@${ENGINE_HOST}:${enginePort};lr>`;

describe('the engine sends a cluster peer request out on the flow its Route names', () => {
  it('from the peer: out on the flow, Route removed, Record-Routed with the token; the answer goes back', async () => {
    const peer = await listening(PEER_HOST);
    peer.socket.send(invite(peer.socket, flowRoute(), 'peer-1'), enginePort, ENGINE_HOST);
    await waitFor(() => received.some((m) => m.includes('Call-ID: peer-1')), 'the INVITE at the device');
    const forwarded = received.find((m) => m.includes('Call-ID: peer-1'))!;
    expect(forwarded.startsWith('INVITE sip:alice@192.0.2.99:5060 SIP/2.0')).toBe(true);
    expect(forwarded).not.toMatch(/^Route:/im);
    expect(forwarded).toMatch(
      new RegExp(
        `^Record-Route: <sip:flow-[\\w-]+@${ENGINE_HOST.replaceAll('.', '\\.')}:${enginePort};lr>`,
        'im',
      ),
    );
    expect(forwarded).toMatch(/^Max-Forwards: 69$/im);
    // §16.7: the device's 486 is the final answer the peer hears.
    await waitFor(() => peer.messages.some((m) => m.startsWith('SIP/2.0 486')), 'the 486 at the peer');
  });

  it('from an address that is not a peer: not forwarded, the engine answers it itself', async () => {
    const stranger = await listening('127.0.0.1');
    stranger.socket.send(invite(stranger.socket, flowRoute(), 'stranger-1'), enginePort, ENGINE_HOST);
    await waitFor(() => stranger.messages.some((m) => / 503 /.test(m.split('\r\n')[0]!)), 'the 503');
    expect(received.some((m) => m.includes('Call-ID: stranger-1'))).toBe(false);
  });

  it('a token that does not decode is not a flow: not forwarded', async () => {
    const peer = await listening(PEER_HOST);
    const route = `<sip:flow-${Buffer.from('tcp evil.example 5060').toString('base64url')}@${ENGINE_HOST}:${enginePort};lr>`;
    peer.socket.send(invite(peer.socket, route, 'bad-token-1'), enginePort, ENGINE_HOST);
    await waitFor(() => peer.messages.some((m) => / 503 /.test(m.split('\r\n')[0]!)), 'the 503');
    expect(received.some((m) => m.includes('Call-ID: bad-token-1'))).toBe(false);
  });
});
