import { button, h, show } from '../dom.js';
import { returnLabel, safeReturnUrl } from '../return-url.js';

export function showWorking(text: string): void {
  show('working', h('section', { class: 'center' }, h('div', { class: 'spinner', 'aria-hidden': 'true' }), h('p', { 'aria-live': 'polite' }, text)));
}

/**
 * The end of a session: what happened, and the way on. With a return URL the server allowed (app-to-app login)
 * the app sends the user back there after a moment, and offers a button for it.
 */
export function showResult(options: {
  kind: 'ok' | 'declined' | 'error';
  title: string;
  text?: string;
  /** Shown small, wrapped anywhere (e.g. a refused URL). */
  detail?: string;
  returnUrl?: string | undefined;
  onDone(): void;
}): void {
  const target = safeReturnUrl(options.returnUrl);
  const icon = options.kind === 'ok' ? '✓' : options.kind === 'declined' ? '✕' : '!';
  show(`result-${options.kind}`,
    h('section', { class: `center result result-${options.kind}` },
      h('div', { class: 'result-icon', 'aria-hidden': 'true' }, icon),
      h('h1', {}, options.title),
      options.text ? h('p', {}, options.text) : null,
      options.detail ? h('p', { class: 'muted small wrap' }, options.detail) : null,
      target ? h('p', { class: 'muted', 'data-testid': 'returning' }, `Taking you back to ${returnLabel(target)}…`) : null),
    h('div', { class: 'actions' },
      target
        ? button(`Back to ${returnLabel(target)}`, () => location.assign(target), 'primary')
        : button('Done', options.onDone, 'primary')));
  if (target) setTimeout(() => location.assign(target), 1500);
}
