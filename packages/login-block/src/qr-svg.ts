import { correction, generate } from 'lean-qr';

/** Quiet zone in modules. The standard asks for 4; the block's own padding adds to it, so 2 reads fine and saves space. */
const QUIET_ZONE = 2;

export interface QrPath {
  /** Width and height of the drawing in modules, quiet zone included. */
  size: number;
  /** One SVG path: a 1×h rectangle for every run of dark modules in a row. */
  d: string;
}

/**
 * Draws QR data as a single SVG path. Error correction M at least (a little damage or glare still reads); the
 * version grows with the data. A path rather than one <rect> per module keeps the DOM small, and runs of dark
 * modules merged per row keep the path short (a login URL makes ~2 KB of path data).
 */
export function qrPath(text: string): QrPath {
  const code = generate(text, { minCorrectionLevel: correction.M });
  const parts: string[] = [];
  for (let y = 0; y < code.size; y++) {
    let x = 0;
    while (x < code.size) {
      if (!code.get(x, y)) {
        x++;
        continue;
      }
      const start = x;
      while (x < code.size && code.get(x, y)) x++;
      parts.push(`M${start + QUIET_ZONE} ${y + QUIET_ZONE}h${x - start}v1h-${x - start}z`);
    }
  }
  return { size: code.size + 2 * QUIET_ZONE, d: parts.join('') };
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * The QR code as an inline <svg>, built with DOM calls (no markup parsing, so nothing in the data can inject).
 * Colours come from CSS custom properties via the stylesheet; `label` is its text alternative.
 */
export function qrSvg(text: string, label: string): SVGSVGElement {
  const { size, d } = qrPath(text);
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('shape-rendering', 'crispEdges');
  svg.setAttribute('part', 'qr-image');
  const title = document.createElementNS(SVG_NS, 'title');
  title.textContent = label;
  const background = document.createElementNS(SVG_NS, 'rect');
  background.setAttribute('width', String(size));
  background.setAttribute('height', String(size));
  background.setAttribute('class', 'qr-bg');
  const modules = document.createElementNS(SVG_NS, 'path');
  modules.setAttribute('d', d);
  modules.setAttribute('class', 'qr-fg');
  svg.append(title, background, modules);
  return svg;
}
