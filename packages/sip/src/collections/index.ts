export { LruMap } from './lru-map.ts';
export { SetIndex } from './set-index.ts';
