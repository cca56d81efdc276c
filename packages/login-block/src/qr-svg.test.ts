import { createRequire } from 'node:module';
import type JsQr from 'jsqr';
import { describe, expect, it } from 'vitest';
import { qrPath } from './qr-svg.js';

const jsQR = createRequire(import.meta.url)('jsqr') as typeof JsQr.default;

/** Paints the path's 1-module rectangles into pixels (4 px a module) and reads them back as a camera would. */
function decode(text: string): string | undefined {
  const { size, d } = qrPath(text);
  const scale = 4;
  const w = size * scale;
  const pixels = new Uint8ClampedArray(w * w * 4).fill(255);
  for (const m of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
    const [x, y, run] = [Number(m[1]), Number(m[2]), Number(m[3])];
    for (let py = y * scale; py < (y + 1) * scale; py++) {
      for (let px = x * scale; px < (x + run) * scale; px++) pixels.fill(0, (py * w + px) * 4, (py * w + px) * 4 + 3);
    }
  }
  return jsQR(pixels, w, w)?.data;
}

describe('qrPath', () => {
  it('draws a login URL that decodes back to itself, with a quiet zone', () => {
    const url = 'https://tapin.example/q/ue-wl4wTaLVG8ZjdA1z3rw/vFW3fopHx_YmEcUNT-Sz1E';
    expect(decode(url)).toBe(url);
    const { size, d } = qrPath(url);
    expect(d).not.toMatch(/M[01] /); // columns 0 and 1 stay light
    expect(size).toBeGreaterThan(21);
  });
});
