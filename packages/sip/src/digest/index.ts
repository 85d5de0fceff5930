export * from './client.ts';
export * from './digest.ts';
export * from './nonce-counts.ts';
export * from './server.ts';
