import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { EnumListenAddress } from './enum.ts';
import { EnumResponder, parseEnumListen, startEnumServer } from './enum.ts';
import { createLookupHandler } from './http.ts';
import type { NumberingIndex } from './numbering-index.ts';

export const DEFAULT_NUMBERING_PORT = 3001;
export const DEFAULT_ENUM_LISTEN = 'udp:127.0.0.1:5300,tcp:127.0.0.1:5300';

export interface NumberingServiceOptions {
  /** HTTP lookup API port (`NUMBERING_PORT`, default 3001); 0 picks a free one. */
  port?: number;
  /** HTTP bind address; default 127.0.0.1. */
  host?: string;
  /** `ENUM_LISTEN` string or parsed list; empty string disables the ENUM responder. */
  enumListen?: string | EnumListenAddress[];
  index: NumberingIndex;
  logger?: Logger;
}

export interface NumberingService {
  /** The bound HTTP port (useful with port 0). */
  httpPort: number;
  /** The bound ENUM addresses (useful with port 0). */
  enumAddresses: EnumListenAddress[];
  close(): Promise<void>;
}

/** Starts the HTTP lookup API and the ENUM responder over one shared in-memory index. */
export async function startNumberingService(options: NumberingServiceOptions): Promise<NumberingService> {
  const { index, logger } = options;
  const listen =
    typeof options.enumListen === 'string' || options.enumListen === undefined
      ? parseEnumListen(options.enumListen ?? DEFAULT_ENUM_LISTEN)
      : options.enumListen;
  const server = http.createServer(createLookupHandler(index, logger));
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_NUMBERING_PORT, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const closeHttp = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  let enumServer: Awaited<ReturnType<typeof startEnumServer>> | null = null;
  try {
    if (listen.length > 0) {
      const responder = new EnumResponder((digits) => index.lookupNumber(digits)?.uri ?? null);
      enumServer = await startEnumServer(responder, listen, logger);
    }
  } catch (error) {
    await closeHttp();
    throw error;
  }
  const httpPort = (server.address() as AddressInfo).port;
  logger?.info({ port: httpPort }, 'numbering lookup API listening');
  return {
    httpPort,
    enumAddresses: enumServer?.addresses ?? [],
    close: async () => {
      await Promise.all([closeHttp(), enumServer?.close()]);
    },
  };
}
