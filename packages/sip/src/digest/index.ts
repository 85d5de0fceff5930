export * from './client.ts';
export * from './digest.ts';
export * from './server.ts';
