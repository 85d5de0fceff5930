import { createHash } from 'node:crypto';
import type { Contact } from '@switchboard/sip';

/**
 * What the registrar needs from the push side (RFC 8599): which services a domain can be pushed
 * through, how long before expiry it pushes for a refresh, and who waits for a woken device.
 */
export interface RegistrarPush {
  /** Push services this domain has credentials for (a subset of apns, fcm). */
  providers(domain: string): Promise<readonly string[]>;
  /** Seconds before a binding expires at which the refresh push goes out (`+sip.pnsreg`). */
  refreshLeadSeconds: number;
  /** A REGISTER with pn-* values was accepted: wake-ups waiting for this device go on. */
  registered(binding: {
    aor: string;
    bindingKey: string;
    pnProvider: string | null;
    pnPrid: string | null;
    pnParam: string | null;
  }): void;
}

/** The RFC 8599 part of one Contact. */
export type ContactPush =
  | { kind: 'none' }
  /** `pn-provider` without a value: the UA asks which services we support (RFC 8599). */
  | { kind: 'query' }
  | { kind: 'push'; provider: string; prid: string; param: string | null; wantsRefresh: boolean };

/** Reads pn-provider, pn-prid, pn-param (URI parameters) and the `+sip.pnsreg` feature tag. */
export function contactPush(contact: Contact): ContactPush {
  const provider = uriParam(contact, 'pn-provider');
  if (provider === undefined) return { kind: 'none' };
  if (provider === '') return { kind: 'query' };
  const prid = uriParam(contact, 'pn-prid');
  const param = uriParam(contact, 'pn-param');
  const wantsRefresh = contact.params.list.some((p) => p.name.toLowerCase() === '+sip.pnsreg');
  return {
    kind: 'push',
    provider: provider.toLowerCase(),
    prid: prid ?? '',
    param: param || null,
    wantsRefresh,
  };
}

/** A parameter of the Contact URI (or, leniently, of the header): undefined absent, '' without value. */
function uriParam(contact: Contact, name: string): string | undefined {
  const lists =
    contact.uri.kind === 'absolute' ? [contact.params.list] : [contact.uri.params.list, contact.params.list];
  for (const list of lists) {
    for (const p of list) {
      if (p.name.toLowerCase() !== name) continue;
      if (p.value === null) return '';
      return p.value.replace(/^"(.*)"$/, '$1');
    }
  }
  return undefined;
}

/**
 * The binding key of a push contact without `+sip.instance`: its pn-* values (RFC 8599: a device that
 * comes back from suspension re-registers from another address and port, but is the same device).
 */
export function pushBindingKey(push: { provider: string; prid: string; param: string | null }): string {
  return `pn:${push.provider};${push.prid};${push.param ?? ''}`;
}

/**
 * PURR (RFC 8599, `+sip.pnspurr`): names the registration for requests outside this REGISTER's
 * dialog (e.g. SUBSCRIBE refreshes). Derived from AOR and binding key so every node names it alike.
 */
export function purrOf(aor: string, bindingKey: string): string {
  return createHash('sha256').update(`${aor}\u0000${bindingKey}`).digest('base64url').slice(0, 22);
}

/** Feature-Caps of a 2xx (RFC 6809 syntax, `*` for the registrar itself). */
export function featureCaps(parts: { pns: readonly string[]; pnsreg?: number; purr?: string }): string {
  let value = `*;+sip.pns="${parts.pns.join(',')}"`;
  if (parts.pnsreg !== undefined) value += `;+sip.pnsreg="${parts.pnsreg}"`;
  if (parts.purr !== undefined) value += `;+sip.pnspurr="${parts.purr}"`;
  return value;
}
