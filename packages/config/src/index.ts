export * from './api-limits.ts';
export * from './api-sign-in.ts';
export * from './runtime-contract.ts';
