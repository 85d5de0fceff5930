export * from './dialogs/index.ts';
export * from './digest/index.ts';
export * from './messages/index.ts';
export * from './proxy/index.ts';
export * from './resolver/index.ts';
export * from './transactions/index.ts';
export * from './transport/index.ts';
export * from './uri/index.ts';
