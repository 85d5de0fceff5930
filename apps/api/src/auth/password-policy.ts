import { dictionary } from '@zxcvbn-ts/language-common';
import { badRequest } from '../errors.ts';

/**
 * What a chosen password must not be, for web logins and SIP subscribers alike: one of the commonly used
 * passwords (the list maintained by the zxcvbn-ts project, about 50 000 entries from public breach corpora),
 * or the account's own name. Length is the schemas' job. Generated passwords are random and skip this.
 */
let common: ReadonlySet<string> | undefined;
function commonPasswords(): ReadonlySet<string> {
  common ??= new Set(dictionary['passwords-common']);
  return common;
}

export interface PasswordContext {
  /** JSON pointer named in the error, e.g. `/body/password`. */
  field: string;
  /** Names of the account the password must not equal: the e-mail, the SIP username, the SIP URI. */
  identities: readonly string[];
}

/** Why `password` is refused, or undefined when it may be used. */
export function passwordProblem(password: string, identities: readonly string[]): string | undefined {
  const folded = password.toLowerCase();
  if (commonPasswords().has(folded)) return 'is a commonly used password; choose another';
  if (identities.some((name) => name !== '' && name.toLowerCase() === folded)) {
    return 'must not be the same as the account name or e-mail';
  }
  return undefined;
}

/** Answers 400 naming the field when the password is refused. */
export function assertPasswordAllowed(password: string, context: PasswordContext): void {
  const message = passwordProblem(password, context.identities);
  if (message !== undefined) throw badRequest(`The password ${message}`, [{ field: context.field, message }]);
}

/** The names a web login's password must differ from: its e-mail and the e-mail's local part. */
export function loginIdentities(email: string): string[] {
  return [email, email.split('@')[0] ?? ''];
}

/** The names a SIP password must differ from: the username and the address of record. */
export function sipIdentities(username: string, domain: string): string[] {
  return [username, `${username}@${domain}`, `sip:${username}@${domain}`];
}

/** A SIP password given in a request body (`/body/password`) follows the policy. */
export function assertSipPasswordAllowed(password: string, username: string, domain: string): void {
  assertPasswordAllowed(password, { field: '/body/password', identities: sipIdentities(username, domain) });
}
