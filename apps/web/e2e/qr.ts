import jsQRModule from 'jsqr';
import type { Locator } from 'playwright-core';
import { PNG } from 'pngjs';

// CommonJS with an ES-style `default`: Node's default import is its exports object, the function is on it.
const jsQR = jsQRModule.default;

/** Reads the QR code an element shows, from a screenshot of it, as a phone camera would. */
export async function readQr(element: Locator): Promise<string> {
  const png = PNG.sync.read(await element.screenshot());
  const found = jsQR(
    new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length),
    png.width,
    png.height,
  );
  if (!found) throw new Error('no QR code found in the element');
  return found.data;
}
