import type { FastifyInstance } from 'fastify';

/**
 * One log event per request, after the answer. Reads are what the web app polls every few seconds (live
 * calls, registrations, health), so they go at debug; changes and login attempts at info; server errors at
 * error. Replaces Fastify's own request logging, which writes two info events per request.
 */
export function registerRequestLogging(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const entry = {
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      responseTimeMs: Math.round(reply.elapsedTime),
    };
    if (reply.statusCode >= 500) request.log.error(entry, 'request completed');
    else if (request.method === 'GET' || request.method === 'HEAD')
      request.log.debug(entry, 'request completed');
    else request.log.info(entry, 'request completed');
  });
}
