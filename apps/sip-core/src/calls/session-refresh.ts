import { parseSessionExpires, parseTokenList, SipParseError } from '@switchboard/sip';

/**
 * Headers of the 2xx to a session refresh (RFC 4028 §9): the interval it asked for, the refresher it
 * named (else the one that sent it, `uac`), and `Require: timer` when that refresher relies on it.
 * A Session-Expires that does not parse is not echoed (the refresh is still answered).
 */
export function sessionRefreshHeaders(req: {
  get(name: string): string | undefined;
}): Record<string, string> {
  const value = req.get('Session-Expires');
  if (!value) return {};
  const expires = parsedOrUndefined(() => parseSessionExpires(value));
  if (!expires) return {};
  const supported = parsedOrUndefined(() => parseTokenList(req.get('Supported') ?? '', 'supported')) ?? [];
  const refresher = expires.refresher === 'uas' ? 'uas' : 'uac';
  return {
    'Session-Expires': `${expires.seconds};refresher=${refresher}`,
    ...(refresher === 'uac' && supported.some((s) => s.toLowerCase() === 'timer')
      ? { Require: 'timer' }
      : {}),
  };
}

function parsedOrUndefined<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (error instanceof SipParseError) return undefined;
    throw error;
  }
}
