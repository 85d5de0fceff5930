import { TransportLayer, type TransportLayerOptions } from '../transport/transport-layer.ts';
import type { ListenerInfo, ListenerSpec } from '../transport/types.ts';
import { TransactionManager, type TransactionManagerOptions } from './manager.ts';

export interface SipStackOptions {
  /** Listeners to bind (see parseListenList for the configuration format). */
  listen: ListenerSpec[];
  /**
   * The transport layer to bind them on: options for a new one, or one already made (a subclass that observes
   * traffic, say); either way the stack owns it and closes it.
   */
  transport?: TransportLayerOptions | TransportLayer;
  transactions?: TransactionManagerOptions;
}

/** A transport layer with its listeners bound and a transaction manager on top: what a SIP element starts with. */
export interface SipStack {
  transport: TransportLayer;
  transactions: TransactionManager;
  listeners: ListenerInfo[];
  close(): Promise<void>;
}

/** Binds every listener (all or nothing: a failure closes what was bound) and starts the transaction layer. */
export async function createSipStack(options: SipStackOptions): Promise<SipStack> {
  const transport =
    options.transport instanceof TransportLayer ? options.transport : new TransportLayer(options.transport);
  const listeners: ListenerInfo[] = [];
  try {
    for (const spec of options.listen) listeners.push(await transport.listen(spec));
  } catch (err) {
    await transport.close();
    throw err;
  }
  const transactions = new TransactionManager(transport, options.transactions);
  return {
    transport,
    transactions,
    listeners,
    async close() {
      transactions.close();
      await transport.close();
    },
  };
}
