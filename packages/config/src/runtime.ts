/** Defined (as `true`) only in a bundle made by scripts/bundle.mjs; absent under a TypeScript loader. */
declare const SWITCHBOARD_BUNDLE: boolean | undefined;

/**
 * Whether this code runs from a compiled bundle (`pnpm start`) rather than from the TypeScript
 * sources under tsx (tests, `bin/switchboard.mjs`, the service units). A program that forks another
 * one forks it the same way: the other's bundle, or its sources with the loader.
 */
export const RUNNING_BUNDLED: boolean =
  typeof SWITCHBOARD_BUNDLE !== 'undefined' && SWITCHBOARD_BUNDLE === true;
