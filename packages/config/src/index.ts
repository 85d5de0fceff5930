export { createLogger, type LoggerOptions } from './logger.ts';
export * from './runtime-contract.ts';
