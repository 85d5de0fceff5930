export * from './negotiation.ts';
export * from './reliable-provisional.ts';
export * from './session-timer.ts';
