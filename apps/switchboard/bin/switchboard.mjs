#!/usr/bin/env node
// Runs the TypeScript launcher directly; the sources are the program, no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
