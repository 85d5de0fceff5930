import { execFile } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TlsPaths } from '@switchboard/config';
import type { Logger } from 'pino';

const run = promisify(execFile);

/**
 * A self-signed certificate for a first try of TLS/WSS listeners, kept in $DATA_DIR/certs and reused on
 * later starts. Production sets SIP_TLS_CERT / SIP_TLS_KEY to real certificates instead.
 */
export async function selfSignedCertificate(
  dataDir: string,
  host: string,
  logger: Logger,
): Promise<TlsPaths> {
  const dir = join(dataDir, 'certs');
  const paths = { certPath: join(dir, 'sip-selfsigned.crt'), keyPath: join(dir, 'sip-selfsigned.key') };
  try {
    await Promise.all([access(paths.certPath), access(paths.keyPath)]);
    return paths;
  } catch {
    // not there yet: generate below
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const san = /^[\d.]+$/.test(host) || host.includes(':') ? `IP:${host}` : `DNS:${host}`;
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '825',
    '-subj',
    `/CN=${host}`,
    '-addext',
    `subjectAltName=${san}`,
    '-keyout',
    paths.keyPath,
    '-out',
    paths.certPath,
  ]);
  logger.warn(
    { cert: paths.certPath },
    'generated a self-signed SIP TLS certificate; set SIP_TLS_CERT/SIP_TLS_KEY for production',
  );
  return paths;
}
