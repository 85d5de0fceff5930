export * from './connection.ts';
export * from './connection-table.ts';
export * from './listeners.ts';
export * from './socket-layer.ts';
export * from './stun.ts';
export * from './transport-layer.ts';
export * from './types.ts';
