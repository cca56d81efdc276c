import type { AppContext } from '../context.js';
import { button, h, show } from '../dom.js';

interface Detector {
  detect(source: CanvasImageSource): Promise<Array<{ rawValue: string }>>;
}
type DetectorCtor = new (options: { formats: string[] }) => Detector;

type Decode = (data: Uint8ClampedArray, width: number, height: number, options?: { inversionAttempts?: 'dontInvert' }) => { data: string } | null;

/** jsQR is most of the app's weight and only needed without BarcodeDetector: loaded then, as a separate chunk. */
async function loadJsQR(): Promise<Decode> {
  // CommonJS whose typings say `export default`: the bundle may hand over either shape.
  const mod = (await import('jsqr')) as unknown as { default?: Decode | { default?: Decode } };
  const d = mod.default;
  return typeof d === 'function' ? d : (d?.default ?? (mod as unknown as Decode));
}

let stopCamera: (() => void) | undefined;

export function leaveScan(): void {
  stopCamera?.();
  stopCamera = undefined;
}

/**
 * Scan a QR code with the camera (BarcodeDetector where the browser has one, else jsQR on video frames), or paste
 * a link. Whatever is found goes to `openLink`, which knows login and enrol links.
 */
export function showScan(app: AppContext): void {
  const video = h('video', { class: 'camera', playsinline: true, muted: true, 'aria-label': 'Camera' });
  const status = h('p', { class: 'muted', 'data-testid': 'camera-status' }, 'Starting the camera…');
  const input = h('input', { id: 'link', type: 'url', inputmode: 'url', autocomplete: 'off', placeholder: 'https://…/q/… or …/e/…' });
  const open = () => {
    const text = input.value.trim();
    if (text) void app.openLink(text);
  };
  show('scan',
    h('h1', { class: 'page-title' }, 'Scan'),
    h('div', { class: 'camera-box' }, video, h('div', { class: 'finder', 'aria-hidden': 'true' })),
    status,
    h('form', { class: 'card form', onsubmit: (e) => { e.preventDefault(); open(); } },
      h('label', { class: 'field', for: 'link' }, 'Or paste a link', input),
      button('Open link', open, 'secondary')));
  void startCamera(video, status, (text) => void app.openLink(text));
}

async function startCamera(video: HTMLVideoElement, status: HTMLElement, found: (text: string) => void): Promise<void> {
  leaveScan();
  if (!navigator.mediaDevices?.getUserMedia) {
    status.textContent = 'No camera here: paste the link instead.';
    return;
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  } catch {
    status.textContent = 'The camera is not available (permission or hardware): paste the link instead.';
    return;
  }
  let running = true;
  stopCamera = () => {
    running = false;
    for (const track of stream.getTracks()) track.stop();
  };
  video.srcObject = stream;
  await video.play().catch(() => undefined);
  status.textContent = 'Point the camera at the QR code.';
  const Native = (globalThis as { BarcodeDetector?: DetectorCtor }).BarcodeDetector;
  const detector = Native ? new Native({ formats: ['qr_code'] }) : undefined;
  const jsQR = detector ? undefined : await loadJsQR();
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  const frame = async () => {
    if (!running || !document.body.contains(video)) return leaveScan();
    let text: string | undefined;
    if (video.readyState >= 2) {
      if (detector) {
        text = (await detector.detect(video).catch(() => []))[0]?.rawValue;
      } else if (context && jsQR) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        const image = context.getImageData(0, 0, canvas.width, canvas.height);
        text = jsQR(image.data, image.width, image.height, { inversionAttempts: 'dontInvert' })?.data;
      }
    }
    if (text) {
      leaveScan();
      found(text);
    } else {
      setTimeout(() => void frame(), 150);
    }
  };
  void frame();
}
