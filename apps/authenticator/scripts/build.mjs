// Builds the authenticator app into dist/: the bundled script (esbuild), the static files, the icons (drawn here,
// so no binary sits in the repository) and the service worker with its cache version and asset list.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { PNG } from 'pngjs';

const LIMIT = 50 * 1024;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: { app: join(root, 'src/main.ts') },
  outdir: dist,
  // jsQR (the fallback QR decoder) is loaded only where the browser has no BarcodeDetector.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  // Phones of the last few years: Chrome/Android, Safari/iOS 16.4+ (Web Push for installed web apps), Firefox.
  target: ['chrome111', 'firefox111', 'safari16.4'],
  // The source export condition: bundle the SDK from its TypeScript, as the tests run it.
  conditions: ['source'],
  legalComments: 'none',
  banner: { js: '/*! Tapin authenticator — Apache-2.0; includes jsQR (Apache-2.0), @noble (MIT), @scure (MIT) */' },
  logLevel: 'warning',
});

for (const name of readdirSync(join(root, 'public'))) {
  if (name !== 'sw.js') copyFileSync(join(root, 'public', name), join(dist, name));
}

/** A rounded blue square with a white ring and dot (a tap); `safe` shrinks the mark for maskable icons. */
function icon(size, { maskable = false } = {}) {
  const png = new PNG({ width: size, height: size });
  const r = maskable ? 0 : size * 0.22;
  const c = size / 2;
  const scale = maskable ? 0.7 : 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const dx = Math.max(r - x, 0, x - (size - 1 - r));
      const dy = Math.max(r - y, 0, y - (size - 1 - r));
      const inside = r === 0 || dx * dx + dy * dy <= r * r;
      const d = Math.hypot(x - c, y - c) / (size * scale);
      const white = (d > 0.24 && d < 0.32) || d < 0.1;
      const [R, G, B] = white ? [255, 255, 255] : [29, 78, 216];
      png.data[i] = R;
      png.data[i + 1] = G;
      png.data[i + 2] = B;
      png.data[i + 3] = inside ? 255 : 0;
    }
  }
  return PNG.sync.write(png);
}
writeFileSync(join(dist, 'icon-192.png'), icon(192));
writeFileSync(join(dist, 'icon-512.png'), icon(512));
writeFileSync(join(dist, 'icon-maskable-512.png'), icon(512, { maskable: true }));

const assets = readdirSync(dist).filter((n) => n !== 'index.html').sort();
const version = createHash('sha256');
for (const name of ['index.html', ...assets]) version.update(name).update(readFileSync(join(dist, name)));
const sw = readFileSync(join(root, 'public/sw.js'), 'utf8')
  .replace('__VERSION__', version.digest('hex').slice(0, 16))
  .replace('__ASSETS__', JSON.stringify(assets).replace(/'/g, "\\'"));
writeFileSync(join(dist, 'sw.js'), sw);

const code = readFileSync(join(dist, 'app.js'));
const gz = gzipSync(code, { level: 9 }).length;
console.log(`authenticator: dist/app.js ${(code.length / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped (limit ${LIMIT / 1024} KB)`);
if (gz > LIMIT) {
  console.error('authenticator: the bundle is over its size budget');
  process.exit(1);
}
