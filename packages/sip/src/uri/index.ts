export * from './name-addr.ts';
export * from './sip-uri.ts';
export * from './tel-uri.ts';
export * from './uri.ts';
