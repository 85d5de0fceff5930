export * from './client.ts';
export * from './failover.ts';
export * from './manager.ts';
export * from './requests.ts';
export * from './server.ts';
export * from './stack.ts';
export * from './timers.ts';
export * from './transaction.ts';
