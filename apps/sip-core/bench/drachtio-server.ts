/**
 * sip-core on the C++ drachtio-server, for the registrar bench's third row: drachtio-server from
 * DRACHTIO_SERVER_BIN (never installed by this repository) on loopback ports, sip-core in this process
 * as in the `one` layout. The CPU charged to a trial is drachtio-server's plus this process's.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from '@switchboard/db';
import { drachtioServerBinary, startDrachtioServer } from '@switchboard/testkit';
import type { SipCoreOptions } from '../src/config.ts';
import { startSipCore } from '../src/start.ts';
import { log, type RunningSipCore, treeCpuSeconds } from './support.ts';

/** Why the drachtio-server row cannot run here, or undefined when it can. */
export function drachtioServerMissing(): string | undefined {
  const binary = drachtioServerBinary();
  return 'missing' in binary ? binary.missing : undefined;
}

export async function startSipCoreOnDrachtioServer(
  db: Database,
  options: (enginePort: number, secret: string) => SipCoreOptions,
): Promise<RunningSipCore> {
  const binary = drachtioServerBinary();
  if ('missing' in binary) throw new Error(binary.missing);
  const secret = randomBytes(16).toString('hex');
  const server = await startDrachtioServer(binary.path, { secret, logLevel: 'notice' });
  try {
    const sipCore = await startSipCore(options(server.admin.port, secret), {
      prisma: db.prisma,
      db,
      logger: log,
    });
    return {
      name: 'sip-core on drachtio-server',
      remote: `127.0.0.1:${server.sipPort}`,
      cpuSeconds: () => {
        const { user, system } = process.cpuUsage();
        return (user + system) / 1e6 + treeCpuSeconds([server.pid]);
      },
      stop: async () => {
        await sipCore.close();
        await server.close();
      },
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}
