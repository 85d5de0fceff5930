import { readFile } from 'node:fs/promises';
import type { TlsPaths } from '@switchboard/config';
import type { Logger } from 'pino';
import type { RunningEngine } from './engine.ts';

/**
 * Reads the SIP certificate and key again (SIP_TLS_CERT / SIP_TLS_KEY, replaced by a renewal such as an
 * ACME client's deploy hook) and gives them to the engine's tls and wss listeners. New TLS handshakes
 * use the new certificate; registered phones keep their open connections. A file that cannot be read
 * or a pair that does not load is logged and the old certificate stays.
 */
export async function reloadSipCertificate(
  engine: Pick<RunningEngine, 'replaceSipCertificate'>,
  paths: TlsPaths,
  logger: Logger,
): Promise<boolean> {
  try {
    const [cert, key] = await Promise.all([
      readFile(paths.certPath, 'utf8'),
      readFile(paths.keyPath, 'utf8'),
    ]);
    const listeners = engine.replaceSipCertificate({ cert, key });
    logger.info({ cert: paths.certPath, listeners }, 'SIP TLS certificate reloaded');
    return true;
  } catch (err) {
    logger.error({ err, cert: paths.certPath }, 'SIP TLS certificate not reloaded, the old one stays');
    return false;
  }
}

/**
 * SIGHUP reloads the SIP certificate (the usual reload signal of daemons, what a deploy hook sends).
 * Returns the function that removes the handler.
 */
export function reloadSipCertificateOnSighup(
  engine: Pick<RunningEngine, 'replaceSipCertificate'>,
  paths: TlsPaths,
  logger: Logger,
): () => void {
  const onHup = (): void => {
    void reloadSipCertificate(engine, paths, logger);
  };
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}
