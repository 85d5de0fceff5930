export * from './api-limits.ts';
export * from './runtime-contract.ts';
