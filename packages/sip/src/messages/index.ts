export * from './builders.ts';
export { detached } from './detached.ts';
export * from './framer.ts';
export * from './header-names.ts';
export * from './headers.ts';
export * from './message.ts';
export * from './parser.ts';
export { randomHex, randomInto } from './random.ts';
