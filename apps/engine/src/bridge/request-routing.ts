import { createResponse } from '@switchboard/sip';
import type { AppConnection } from '../admin/app-connection.ts';
import { fetchInstruction, type RequestHandler, RoutingError } from '../routing/request-handlers.ts';
import { parseTimeout } from '../wire/commands.ts';
import type { BridgeCore } from './bridge-core.ts';
import { deliverNew } from './network-side.ts';
import { startProxy } from './proxy-operations.ts';
import type { IncomingTransaction } from './sip-stack.ts';

/**
 * drachtio-server's request handlers (routing/request-handlers.ts): the handler says where the request goes
 * (reject, redirect, proxy, an app to connect out to, or the connected apps with a tag). A handler that
 * fails or answers nonsense gets the request a 500; an app that cannot be reached or no app with the tag, 480.
 */
export async function routeByHandler(
  core: BridgeCore,
  txn: IncomingTransaction,
  handler: RequestHandler,
): Promise<void> {
  const request = txn.request;
  const state = { cancelled: false };
  core.routing.set(txn, state);
  const respond = (status: number, reason?: string, headers: Array<[string, string]> = []) =>
    txn.respond(createResponse(request, status, { ...(reason ? { reason } : {}), headers })).catch(() => {});
  try {
    const instruction = await fetchInstruction(
      handler,
      request,
      txn.raw,
      txn.flow.transport,
      txn.flow.remoteAddress,
    );
    if (state.cancelled) return;
    core.log.debug({ method: request.method, instruction }, 'request handler answered');
    switch (instruction.action) {
      case 'reject':
        await respond(instruction.status, instruction.reason);
        return;
      case 'redirect':
        await respond(
          302,
          'Moved Temporarily',
          instruction.contacts.map((c) => ['Contact', c.includes('<') ? c : `<${c}>`]),
        );
        return;
      case 'proxy':
        startProxy(
          core,
          txn,
          {
            destinations: instruction.destinations,
            recordRoute: instruction.recordRoute,
            simultaneous: instruction.simultaneous,
            followRedirects: instruction.followRedirects,
            provisionalTimeoutMs: parseTimeout(instruction.provisionalTimeout),
            finalTimeoutMs: parseTimeout(instruction.finalTimeout),
            headers: [],
          },
          undefined,
        );
        return;
      case 'tag': {
        const app = core.options.registry.select(request.method, instruction.tag);
        if (!app) {
          core.log.info(
            { tag: instruction.tag, method: request.method },
            'no app with that tag routes the method',
          );
          await respond(480);
          return;
        }
        deliverNew(core, txn, app);
        return;
      }
      case 'connect': {
        if (!core.options.connectApp) throw new RoutingError('outbound connections are not available');
        let app: AppConnection;
        try {
          app = await core.options.connectApp(instruction.host, instruction.port, instruction.tls);
        } catch (err) {
          core.log.info(
            { host: instruction.host, port: instruction.port, err: (err as Error).message },
            'could not connect to the app',
          );
          await respond(480);
          return;
        }
        if (state.cancelled) {
          app.close();
          return;
        }
        deliverNew(core, txn, app);
        return;
      }
    }
  } catch (err) {
    core.log.warn({ method: request.method, err: (err as Error).message }, 'request handler failed');
    if (!state.cancelled) await respond(500);
  } finally {
    core.routing.delete(txn);
  }
}
