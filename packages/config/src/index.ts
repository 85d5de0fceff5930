export * from './api-limits.ts';
export * from './api-sign-in.ts';
export { createLogger, type LoggerOptions } from './logger.ts';
export * from './mail.ts';
export * from './object-storage.ts';
export * from './runtime.ts';
export * from './runtime-contract.ts';
export * from './settings.ts';
export * from './sip-access.ts';
