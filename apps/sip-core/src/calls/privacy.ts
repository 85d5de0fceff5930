/**
 * The From a callee is given when the caller's identity is withheld: the anonymous URI and display
 * name of RFC 3323 §4.1.1.3, as RFC 3325 §9.3 uses them with `Privacy: id`.
 */
export const ANONYMOUS_FROM = '"Anonymous" <sip:anonymous@anonymous.invalid>';

/** Privacy values that withhold the caller's identity from the callee. */
const IDENTITY_PRIVACY = new Set(['id', 'user', 'header']);

/**
 * Whether a request's Privacy header asks that the caller's identity be withheld from the callee.
 * The header is a `;`-separated list of values (RFC 3323 §4.2); several headers arrive joined with
 * commas. `id` (RFC 3325 §9.3) withholds the asserted identity, `user` the user-supplied one (From,
 * display name), `header` every header that could reveal it: each of them means the callee's
 * devices, which are not trusted (RFC 3325 §3), must not learn who calls. `session` (media only),
 * `critical` and `none` do not on their own.
 */
export function withholdsIdentity(privacy: string | undefined): boolean {
  if (!privacy) return false;
  return privacy.split(/[;,]/).some((value) => IDENTITY_PRIVACY.has(value.trim().toLowerCase()));
}

/**
 * An SDP body with the origin's username (RFC 4566 §5.2: `o=<username> <sess-id> ...`) replaced by
 * `-`, the value for "no user IDs": phones often write their SIP user name there, and the relay
 * rewrites only the origin's address. The rest of the line is kept, so the session stays the same
 * session to the receiver (RFC 3264 §8: only the version changes between offers).
 */
export function withoutOriginUser(sdp: string): string {
  return sdp.replace(/^o=[^ \r\n]+ /m, 'o=- ');
}
