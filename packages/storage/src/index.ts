export * from './create.ts';
export * from './local.ts';
export * from './local-copy.ts';
export * from './s3.ts';
export * from './sigv4.ts';
export * from './storage.ts';
