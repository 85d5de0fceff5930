import {
  createNon2xxAck,
  createResponse,
  parseMessage,
  type SipRequest,
  type SipResponse,
} from '../../src/messages/index.ts';

let counter = 0;

/** A syntactically complete request of that method (fresh branch and Call-ID unless given). */
export function request(
  method: string,
  opts: { branch?: string; callId?: string; via?: string; cseq?: number; toTag?: string; uri?: string } = {},
): SipRequest {
  counter++;
  const branch = opts.branch ?? `z9hG4bKtest${counter}`;
  const via = opts.via ?? 'SIP/2.0/UDP 127.0.0.1:5999';
  const cseqMethod = method === 'ACK' ? 'ACK' : method;
  return parseMessage(
    `${method} ${opts.uri ?? 'sip:bob@127.0.0.1'} SIP/2.0\r\n` +
      `Via: ${via};branch=${branch}\r\n` +
      'Max-Forwards: 70\r\n' +
      'From: <sip:alice@127.0.0.1>;tag=from1\r\n' +
      `To: <sip:bob@127.0.0.1>${opts.toTag ? `;tag=${opts.toTag}` : ''}\r\n` +
      `Call-ID: ${opts.callId ?? `call-${counter}`}\r\n` +
      `CSeq: ${opts.cseq ?? 1} ${cseqMethod}\r\n` +
      'Contact: <sip:alice@127.0.0.1:5999>\r\n' +
      'Content-Length: 0\r\n\r\n',
  ) as SipRequest;
}

/** A response of that status to a fresh request (or to the given one). */
export function response(status: number, to?: SipRequest): SipResponse {
  return createResponse(to ?? request('INVITE'), status, { toTag: 'totag1' });
}

export function ack(res: SipResponse): SipRequest {
  return createNon2xxAck(request('INVITE'), res);
}
