import { readFileSync } from 'node:fs';
import type { CaptureSet } from '../../tools/sip-diff/capture.ts';

/** Recorded captures of two contract tests, run once on the engine and once on drachtio-server v0.9.4. */
export function fixture(name: 'engine' | 'reference'): CaptureSet {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as CaptureSet;
}
