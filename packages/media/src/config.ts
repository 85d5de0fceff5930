import { MediaError } from './errors.ts';

export interface RtpengineAddress {
  host: string;
  port: number;
  /** Relative share of new calls (default 1). */
  weight: number;
}

/**
 * Parses `RTPENGINE_NG`: `host:port[=weight][,host:port[=weight]...]`, the weight syntax of Kamailio's
 * rtpengine module. Hostnames are allowed; IPv6 literals are not (the NG client socket is IPv4).
 */
export function parseRtpengineNg(value: string): RtpengineAddress[] {
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (entries.length === 0)
    throw new MediaError('invalid-config', 'RTPENGINE_NG lists no rtpengine instance');
  const seen = new Set<string>();
  return entries.map((entry) => {
    const match = /^([A-Za-z0-9.-]+):(\d{1,5})(?:=(\d{1,4}))?$/.exec(entry);
    if (match === null) {
      throw new MediaError('invalid-config', `RTPENGINE_NG entry "${entry}" is not host:port[=weight]`);
    }
    const host = match[1]!;
    const port = Number(match[2]);
    const weight = match[3] === undefined ? 1 : Number(match[3]);
    if (port < 1 || port > 65535)
      throw new MediaError('invalid-config', `RTPENGINE_NG port ${port} is out of range`);
    if (weight < 1)
      throw new MediaError('invalid-config', `RTPENGINE_NG weight in "${entry}" must be at least 1`);
    const key = `${host}:${port}`;
    if (seen.has(key)) throw new MediaError('invalid-config', `RTPENGINE_NG lists ${key} twice`);
    seen.add(key);
    return { host, port, weight };
  });
}
