import { readFile } from 'node:fs/promises';
import { addressFamily } from '../transport/types.ts';

/**
 * The system's static host table (`/etc/hosts`, hosts(5)): `address name [aliases...]`, `#` comments. c-ares,
 * behind node:dns's Resolver, asks DNS servers only, while the system resolver (getaddrinfo, sofia-sip's
 * fallback) reads this file first; container and VM set-ups name their peers here. Reading the file, rather
 * than calling getaddrinfo, keeps a name that is nowhere from turning into a query to the system's DNS.
 */
export async function lookupHostsFile(path: string, host: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const wanted = host.toLowerCase();
  const found: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    const [address, ...names] = fields;
    if (!address || addressFamily(address) === 0) continue;
    if (names.some((n) => n.toLowerCase() === wanted) && !found.includes(address)) found.push(address);
  }
  return found;
}
