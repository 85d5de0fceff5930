export * from './ack-wait.ts';
export * from './attach.ts';
export * from './client-request.ts';
export * from './dialog-owner.ts';
export * from './dialog-resources.ts';
export * from './server-request.ts';
export * from './user-agent-core.ts';
export * from './user-agent-core-types.ts';
