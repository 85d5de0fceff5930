export * from './digest/index.ts';
export * from './messages/index.ts';
export * from './uri/index.ts';
