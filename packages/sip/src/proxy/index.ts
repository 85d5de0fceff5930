export * from './best-response.ts';
export * from './proxy.ts';
