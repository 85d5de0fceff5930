import { fileURLToPath } from 'node:url';

/** Folder of the built web app (`vite build`), for the API's `webRoot`. */
export const webDistDir: string = fileURLToPath(new URL('../dist', import.meta.url));
