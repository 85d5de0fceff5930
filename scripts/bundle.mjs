#!/usr/bin/env node
// Compiles a TypeScript program of this workspace into one JavaScript file, so that it runs on plain
// Node without a loader: less memory (no loader thread, no transpiled copies, no per-module source
// maps) and a faster start than the sources under tsx.
//
// The bundle is a build product of this checkout, not a portable artifact: the workspace's own
// modules are compiled into it, every third-party package stays where pnpm installed it (imported by
// absolute path, resolved now as Node would from the importing package), and `import.meta.url` in a
// library module keeps naming its source file, so files found relative to a package (migrations, the
// web build, a package's own dependencies) are found as under tsx. Only the program's entry module
// sees the bundle's own URL: a program that forks copies of itself forks the bundle.
//
//   node scripts/bundle.mjs <entry.ts> <out.mjs> [<entry.ts> <out.mjs>...]
//   (or import { bundleProgram } from here)
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const WORKSPACE_PACKAGE = /^@switchboard\//;
const TYPESCRIPT_SOURCE = /\.[cm]?tsx?$/;

/**
 * Bundles `entry` into `outfile` (with a linked source map, for `--enable-source-maps`). Resolves
 * once written; rejects with esbuild's errors.
 */
export async function bundleProgram(entry, outfile) {
  const entryPath = resolve(entry);
  await build({
    entryPoints: [entryPath],
    outfile: resolve(outfile),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    // Class and function names as in the sources (logs and error names read them).
    keepNames: true,
    logLevel: 'warning',
    // The define below marks the code as running bundled (runtime.ts in @switchboard/config).
    define: { SWITCHBOARD_BUNDLE: 'true' },
    plugins: [
      {
        name: 'installed-packages-in-place',
        setup(builder) {
          builder.onResolve({ filter: /^[^./]/ }, async (args) => {
            if (args.pluginData?.installed) return undefined;
            if (WORKSPACE_PACKAGE.test(args.path) || isAbsolute(args.path)) return undefined;
            if (args.path.startsWith('node:')) return { path: args.path, external: true };
            // Resolved from the importing module's folder, as Node resolves it at run time.
            const found = await builder.resolve(args.path, {
              kind: args.kind,
              resolveDir: args.resolveDir,
              pluginData: { installed: true },
            });
            if (found.errors.length > 0) return { errors: found.errors };
            return { path: pathToFileURL(found.path).href, external: true };
          });
          builder.onLoad({ filter: TYPESCRIPT_SOURCE }, async (args) => {
            if (args.path === entryPath) return undefined;
            const source = await readFile(args.path, 'utf8');
            if (!source.includes('import.meta.url')) return undefined;
            return {
              contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
              loader: 'ts',
            };
          });
        },
      },
    ],
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const pairs = process.argv.slice(2);
  if (pairs.length === 0 || pairs.length % 2 !== 0) {
    console.error('usage: node scripts/bundle.mjs <entry.ts> <out.mjs> [<entry.ts> <out.mjs>...]');
    process.exit(2);
  }
  for (let i = 0; i < pairs.length; i += 2) await bundleProgram(pairs[i], pairs[i + 1]);
}
