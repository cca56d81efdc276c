// Bundles the element into one self-registering ES module (dist/tapin-login.js) and checks its gzipped size.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const LIMIT = 20 * 1024;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist/tapin-login.js');

await build({
  entryPoints: [join(root, 'src/index.ts')],
  outfile,
  bundle: true,
  minify: true,
  format: 'esm',
  // Current Chromium, Firefox and Safari (Safari 16.4 brought constructed stylesheets and other bits we use).
  target: ['chrome111', 'firefox111', 'safari16.4'],
  legalComments: 'none',
  banner: { js: '/*! @tapin/login-block — Apache-2.0; includes lean-qr (MIT) */' },
  logLevel: 'warning',
});

const code = readFileSync(outfile);
const gz = gzipSync(code, { level: 9 }).length;
console.log(`login-block: dist/tapin-login.js ${(code.length / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped (limit ${LIMIT / 1024} KB)`);
if (gz > LIMIT) {
  console.error('login-block: the bundle is over its size budget');
  process.exit(1);
}
