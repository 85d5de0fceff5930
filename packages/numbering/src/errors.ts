/** Machine-readable reasons, used as the problem+json `type` suffix by the HTTP API. */
export type NumberingErrorCode =
  | 'invalid-number'
  | 'unknown-domain'
  | 'invalid-regex'
  | 'unsafe-regex'
  | 'invalid-replacement'
  | 'invalid-rule'
  | 'invalid-header-rule'
  | 'not-found'
  | 'blocked'
  | 'no-route';

/**
 * Every error this package throws on bad input. Provisioning code (the REST API) turns it into a 4xx with
 * `message` as the detail; call handling never sees one for data that passed provisioning validation.
 */
export class NumberingError extends Error {
  override readonly name = 'NumberingError';
  constructor(
    readonly code: NumberingErrorCode,
    message: string,
  ) {
    super(message);
  }
}
