export * from './best-response.ts';
export * from './flow-token.ts';
export * from './proxy.ts';
export * from './proxy-context.ts';
