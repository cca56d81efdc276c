import { h } from '../dom.js';

/**
 * A PIN pad for one thumb: big keys in the lower half of the screen, dots for what was typed. Keyboard digits work
 * too (hardware keyboards, desktop). Resolves through `onPin`; `message` is e.g. "Wrong PIN — 3 attempts left".
 */
export function pinPad(options: { title: string; message?: string | undefined; onPin(pin: string): void; onCancel(): void; minLength?: number }): HTMLElement {
  const min = options.minLength ?? 4;
  let pin = '';
  const dots = h('div', { class: 'pin-dots', role: 'status', 'data-testid': 'pin-dots' });
  const ok = h('button', { type: 'button', class: 'key key-ok', 'aria-label': 'OK', disabled: true, onclick: () => submit() }, 'OK');
  const render = () => {
    // The dots are for the eye; a screen reader hears the count (a live region reads its text, not a label).
    dots.replaceChildren(...Array.from({ length: Math.max(min, pin.length) }, (_, i) => h('span', { class: i < pin.length ? 'dot on' : 'dot', 'aria-hidden': 'true' })),
      h('span', { class: 'visually-hidden' }, `${pin.length} ${pin.length === 1 ? 'digit' : 'digits'} entered`));
    ok.disabled = pin.length < min;
  };
  const press = (d: string) => {
    if (pin.length < 12) pin += d;
    render();
  };
  const back = () => {
    pin = pin.slice(0, -1);
    render();
  };
  const submit = () => {
    if (pin.length < min) return;
    document.removeEventListener('keydown', onKey);
    options.onPin(pin);
  };
  const onKey = (e: KeyboardEvent) => {
    if (!document.body.contains(dots)) return document.removeEventListener('keydown', onKey);
    if (/^\d$/.test(e.key)) press(e.key);
    else if (e.key === 'Backspace') back();
    else if (e.key === 'Enter') submit();
  };
  document.addEventListener('keydown', onKey);
  const key = (d: string) => h('button', { type: 'button', class: 'key', 'data-digit': d, onclick: () => press(d) }, d);
  render();
  return h('section', { class: 'pin-pad' },
    h('h1', {}, options.title),
    options.message ? h('p', { class: 'alert', role: 'alert' }, options.message) : h('p', { class: 'muted' }, 'Enter your PIN'),
    dots,
    h('div', { class: 'keys' },
      ...['1', '2', '3', '4', '5', '6', '7', '8', '9'].map(key),
      h('button', { type: 'button', class: 'key key-back', 'aria-label': 'Delete last digit', onclick: back }, '⌫'),
      key('0'),
      ok),
    h('button', { type: 'button', class: 'btn btn-link', onclick: () => { document.removeEventListener('keydown', onKey); options.onCancel(); } }, 'Cancel'));
}
