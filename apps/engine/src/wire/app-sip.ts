/**
 * The SIP text an app sends is partial (a response may carry only From/To/Call-ID/CSeq, an in-dialog request
 * has `sip:placeholder` as its URI, Via and Call-ID are often absent), so it cannot go through the network
 * parser, which insists on the mandatory headers. This splits it into its start line, its header fields in
 * order and its body; the SIP library then validates each part as the engine builds the real message.
 */

export interface AppSipText {
  startLine: string;
  /** [name as written, value] in order; folded lines are joined. */
  headers: Array<[string, string]>;
  body: string;
}

export class AppSipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppSipError';
  }
}

export function splitAppSip(text: string): AppSipText {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 4);
  const lines = head.split('\r\n');
  const startLine = (lines.shift() ?? '').trim();
  if (startLine === '') throw new AppSipError('empty SIP message');
  const headers: Array<[string, string]> = [];
  for (const line of lines) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && headers.length > 0) {
      const last = headers[headers.length - 1]!;
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new AppSipError(`invalid header line: ${line.slice(0, 80)}`);
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { startLine, headers, body };
}
