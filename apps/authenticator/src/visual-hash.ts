import { fromBase64url, sha256Base64url } from '@tapin/protocol';

/**
 * A picture of the server's public key: a 5×5 mirrored grid in a colour, both from SHA-256 of the key, and the
 * first characters of the hash. The enrol screen shows it so a user can compare it with what the site's admin
 * page shows — two different keys look different at a glance.
 */
export function visualHash(serverKey: string): { svg: SVGSVGElement; fingerprint: string } {
  const digest = sha256Base64url(serverKey);
  const bytes = fromBase64url(digest);
  const hue = ((bytes[0]! << 8) | bytes[1]!) % 360;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 5 5');
  svg.setAttribute('class', 'visual-hash');
  svg.setAttribute('role', 'img');
  const bg = document.createElementNS(ns, 'rect');
  bg.setAttribute('width', '5');
  bg.setAttribute('height', '5');
  bg.setAttribute('fill', `hsl(${hue} 60% 94%)`);
  svg.append(bg);
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 3; x++) {
      if (((bytes[2 + y]! >> x) & 1) === 0) continue;
      for (const cx of new Set([x, 4 - x])) {
        const cell = document.createElementNS(ns, 'rect');
        cell.setAttribute('x', String(cx));
        cell.setAttribute('y', String(y));
        cell.setAttribute('width', '1');
        cell.setAttribute('height', '1');
        cell.setAttribute('fill', `hsl(${hue} 55% 40%)`);
        svg.append(cell);
      }
    }
  }
  const fingerprint = digest.slice(0, 12).toUpperCase().replace(/(.{4})(?=.)/g, '$1 ');
  svg.setAttribute('aria-label', `Server key ${fingerprint}`);
  return { svg, fingerprint };
}
