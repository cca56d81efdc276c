/**
 * Finding a QR code in a camera frame or a picture: the browser's BarcodeDetector where it has one (Chrome on
 * Android, Safari 17+), else jsQR on the pixels. jsQR is most of the app's weight, so it is loaded only then, as a
 * separate chunk.
 */
interface Detector {
  detect(source: CanvasImageSource): Promise<Array<{ rawValue: string }>>;
}
type DetectorCtor = (new (options: { formats: string[] }) => Detector) & { getSupportedFormats?(): Promise<string[]> };
type Decode = (data: Uint8ClampedArray, width: number, height: number, options?: { inversionAttempts?: 'dontInvert' | 'attemptBoth' }) => { data: string } | null;

export type QrSource = HTMLVideoElement | ImageBitmap;

export interface QrDecoder {
  /** The text of the first QR code in the image, if there is one. `thorough` also tries light-on-dark codes. */
  decode(source: QrSource, thorough?: boolean): Promise<string | undefined>;
}

async function loadJsQR(): Promise<Decode> {
  // CommonJS whose typings say `export default`: the bundle may hand over either shape.
  const mod = (await import('jsqr')) as unknown as { default?: Decode | { default?: Decode } };
  const d = mod.default;
  return typeof d === 'function' ? d : (d?.default ?? (mod as unknown as Decode));
}

/** Pictures from a phone's camera are large; this many pixels on the long side still find a code in a second. */
const MAX_SIDE = 2048;

function size(source: QrSource): { width: number; height: number } {
  return source instanceof HTMLVideoElement ? { width: source.videoWidth, height: source.videoHeight } : { width: source.width, height: source.height };
}

async function nativeDetector(): Promise<Detector | undefined> {
  const Native = (globalThis as { BarcodeDetector?: DetectorCtor }).BarcodeDetector;
  if (!Native) return undefined;
  const formats = await Native.getSupportedFormats?.().catch(() => [] as string[]);
  return formats && !formats.includes('qr_code') ? undefined : new Native({ formats: ['qr_code'] });
}

export async function qrDecoder(): Promise<QrDecoder> {
  const detector = await nativeDetector();
  if (detector) return { decode: async (source) => (await detector.detect(source).catch(() => []))[0]?.rawValue };
  const jsQR = await loadJsQR();
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  return {
    decode: async (source, thorough = false) => {
      const { width, height } = size(source);
      if (!context || width === 0 || height === 0) return undefined;
      const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      context.drawImage(source, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      return jsQR(image.data, image.width, image.height, { inversionAttempts: thorough ? 'attemptBoth' : 'dontInvert' })?.data;
    },
  };
}
