import { isIP } from 'node:net';
import { Type } from 'typebox';

/** IP addresses and CIDR blocks, as peer gateways trust them and IP bans block them. */

export const Cidr = Type.String({ minLength: 2, maxLength: 64, description: 'IP address or CIDR block' });

export function isCidr(value: string): boolean {
  const [addr, bits, ...rest] = value.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}
