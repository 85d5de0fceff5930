export * from './runtime-contract.ts';
