import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { MetricsRegistry } from './registry.ts';

export interface MetricsServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** The Prometheus text exposition of the registry, with its content type. */
export async function renderMetrics(
  registry: MetricsRegistry,
): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/**
 * The listener of a standalone component (METRICS_LISTEN): `GET /metrics` and nothing else. It has no
 * authentication, so bind it to loopback or a monitoring network only.
 */
export async function startMetricsServer(
  listen: { host: string; port: number },
  registry: MetricsRegistry,
  logger?: Logger,
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    renderMetrics(registry).then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        logger?.error({ err }, 'collecting metrics failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('collecting metrics failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  logger?.info({ metrics: `http://${listen.host}:${port}/metrics` }, 'metrics listener ready');
  return {
    host: listen.host,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
