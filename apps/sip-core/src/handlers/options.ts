import type { Middleware } from '../sip/request.ts';

export const ALLOWED_METHODS = 'REGISTER, OPTIONS';

/** OPTIONS (RFC 3261 §11): keep-alives and capability queries get 200 with what we accept. */
export function optionsHandler(): Middleware {
  return (_req, res) => {
    res.send(200, 'OK', {
      headers: {
        Allow: ALLOWED_METHODS,
        Accept: 'application/sdp',
        'Accept-Encoding': 'identity',
        'Accept-Language': 'en',
        Supported: 'path, outbound',
      },
    });
  };
}
