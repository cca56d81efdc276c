import type { AppContext } from '../context.js';
import { button, h, show } from '../dom.js';
import { linkProblem } from '../link-check.js';
import { type QrDecoder, qrDecoder } from '../qr-decode.js';

let stopCamera: (() => void) | undefined;

export function leaveScan(): void {
  stopCamera?.();
  stopCamera = undefined;
}

/** A message under a control: hidden until there is something to say; `role=alert` so it is read out at once. */
function note(testid: string): { el: HTMLElement; say(text: string): void; clear(): void } {
  const el = h('p', { class: 'alert', role: 'alert', 'data-testid': testid, hidden: true });
  return {
    el,
    say: (text) => { el.textContent = text; el.hidden = false; el.scrollIntoView({ block: 'nearest' }); },
    clear: () => { el.textContent = ''; el.hidden = true; },
  };
}

/**
 * Scan a QR code with the camera, from a picture (a screenshot, or a desktop without a camera), or paste a link.
 * A text that is not a Tapin link is said on this screen, next to where it came from; a Tapin link goes to
 * `openLink`, which knows login and enrol links.
 */
export function showScan(app: AppContext): void {
  const video = h('video', { class: 'camera', playsinline: true, muted: true, 'aria-label': 'Camera' });
  const status = h('p', { class: 'muted', 'data-testid': 'camera-status', 'aria-live': 'polite' }, 'Starting the camera…');
  const box = h('div', { class: 'camera-box' }, video, h('div', { class: 'finder', 'aria-hidden': 'true' }));
  const pictureNote = note('picture-error');
  const linkNote = note('link-error');
  // Hidden: the button opens it (a styled, labelled control); click() on a hidden file input works in today's browsers.
  const file = h('input', { id: 'qr-picture', type: 'file', accept: 'image/*', hidden: true });
  const input = h('input', { id: 'link', type: 'url', inputmode: 'url', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://…/q/… or …/e/…', 'aria-describedby': 'link-error' });
  linkNote.el.id = 'link-error';
  const open = () => {
    const text = input.value.trim();
    if (!text) return linkNote.say('Paste a login or enrol link first.');
    const problem = linkProblem(text);
    if (problem) return linkNote.say(problem);
    linkNote.clear();
    void app.openLink(text);
  };
  input.addEventListener('input', () => linkNote.clear());
  file.addEventListener('change', () => {
    const picked = file.files?.[0];
    file.value = '';
    if (picked) void scanPicture(picked, pictureNote, app);
  });
  show('scan',
    h('h1', { class: 'page-title' }, 'Scan'),
    box,
    status,
    h('section', { class: 'card form' },
      button('Scan from a picture', () => { pictureNote.clear(); file.click(); }, 'secondary'),
      file, pictureNote.el),
    h('form', { class: 'card form', novalidate: true, onsubmit: (e) => { e.preventDefault(); open(); } },
      h('label', { class: 'field', for: 'link' }, 'Or paste a link', input),
      linkNote.el,
      h('button', { type: 'submit', class: 'btn btn-secondary' }, 'Open link')));
  void startCamera(video, box, status, (text) => {
    const problem = linkProblem(text);
    if (!problem) return true;
    status.textContent = `${problem} Point the camera at the code on the login page.`;
    return false;
  }, (text) => void app.openLink(text));
}

/** A picture the user chose (file picker, or the phone's camera app): decoded here, never uploaded. */
async function scanPicture(picked: File, message: ReturnType<typeof note>, app: AppContext): Promise<void> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(picked);
  } catch {
    return message.say('This file is not a picture this browser can read. Choose a PNG or JPEG image.');
  }
  let text: string | undefined;
  try {
    text = await (await qrDecoder()).decode(bitmap, true);
  } finally {
    bitmap.close();
  }
  if (!text) return message.say('No QR code found in this picture. Use a sharp picture with the whole code in it, or paste the link.');
  const problem = linkProblem(text);
  if (problem) return message.say(`The QR code in this picture: ${problem}`);
  void app.openLink(text);
}

async function startCamera(video: HTMLVideoElement, box: HTMLElement, status: HTMLElement, acceptable: (text: string) => boolean, found: (text: string) => void): Promise<void> {
  leaveScan();
  if (!navigator.mediaDevices?.getUserMedia) {
    box.hidden = true;
    status.textContent = 'No camera here: scan from a picture or paste the link instead.';
    return;
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  } catch {
    // No black box where no picture will come: the other two ways move up.
    box.hidden = true;
    status.textContent = 'The camera is not available (permission or hardware): scan from a picture or paste the link instead.';
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
  const decoder: QrDecoder = await qrDecoder();
  let last = '';
  const frame = async () => {
    if (!running || !document.body.contains(video)) return leaveScan();
    const text = video.readyState >= 2 ? await decoder.decode(video) : undefined;
    // A code that is not Tapin's is said once and scanning goes on; a Tapin link ends the scan.
    if (text && text !== last && acceptable(text)) {
      leaveScan();
      found(text);
      return;
    }
    if (text) last = text;
    setTimeout(() => void frame(), 150);
  };
  void frame();
}
