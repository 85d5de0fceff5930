/** An out-of-dialog OPTIONS as a probe or a liveness ping sends it: CRLF-separated, no body. */
export function optionsRequest(fields: {
  uri: string;
  via: string;
  from: string;
  to: string;
  callId: string;
}): string {
  return [
    `OPTIONS ${fields.uri} SIP/2.0`,
    `Via: ${fields.via}`,
    `From: ${fields.from}`,
    `To: ${fields.to}`,
    `Call-ID: ${fields.callId}`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
