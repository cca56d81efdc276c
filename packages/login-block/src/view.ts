import { looksLikePhone } from './device.js';
import type { Grant } from './endpoints.js';
import type { Strings } from './strings.js';
import type { Transport } from './watcher.js';

export type LoginView = 'loading' | 'waiting' | 'scanned' | 'provoked' | 'completing' | 'loggedin' | 'declined' | 'expired' | 'error';

/** What the block shows, as the element holds it. */
export interface ViewModel {
  view: LoginView;
  /** Replaces the view's status line (an error's own words). */
  message: string | undefined;
  grant: Grant | undefined;
  /** The `mode` attribute: `app`, `qr`, or unset (app first on phones). */
  mode: string | undefined;
  otpUrl: string | undefined;
  showQrOnPhone: boolean;
  pushAvailable: boolean;
  /** The number to pick on the phone (push login with number matching). */
  number: string | undefined;
  transport: Transport;
}

/** The views in which a login is under way (the session is pending). */
export const ACTIVE: readonly LoginView[] = ['waiting', 'scanned', 'provoked'];

/**
 * Brings the block's shadow DOM (see template.ts) in line with the model: which parts show, the status line, focus.
 * Writes only what changed where a write has an effect of its own (a live region re-announces every write).
 */
export function renderView(root: ShadowRoot, s: Strings, model: ViewModel): void {
  const { view, grant, mode } = model;
  const $ = (id: string): HTMLElement => root.getElementById(id) as HTMLElement;
  const appFirst = mode === 'app' || (mode !== 'qr' && looksLikePhone());
  const showQr = !appFirst || model.showQrOnPhone;

  const lead = $('lead');
  lead.hidden = view !== 'waiting' && view !== 'loading';
  lead.textContent = view === 'loading' ? s.loading : showQr ? s.leadQr : s.leadApp;
  if (view === 'loading') lead.hidden = true;

  const qr = $('qr');
  qr.hidden = !showQr || !(view === 'waiting' || view === 'scanned');
  qr.classList.toggle('dim', view === 'scanned');
  $('badge').hidden = view !== 'scanned';
  $('linkbox').hidden = !showQr || view !== 'waiting';
  $('app').hidden = !(appFirst && view === 'waiting');
  $('show-qr').hidden = model.showQrOnPhone;

  $('number').hidden = !(view === 'provoked' && model.number);
  $('number-value').textContent = model.number ?? '';

  const status = $('status');
  const text: Record<LoginView, string> = {
    loading: s.loading, waiting: s.waiting, scanned: s.scanned, provoked: s.provoked, completing: s.completing,
    loggedin: s.loggedin, declined: s.declined, expired: s.expired, error: s.failed,
  };
  const line = model.message ?? text[view];
  // Only write when the words change: a live region re-announces every write.
  if (status.dataset['line'] !== `${view}:${line}`) {
    status.dataset['line'] = `${view}:${line}`;
    status.textContent = line;
    if (view === 'loading' || view === 'completing') {
      const spin = document.createElement('span');
      spin.className = 'spin';
      spin.setAttribute('aria-hidden', 'true');
      status.prepend(spin);
    }
  }
  status.className = `status${view === 'loggedin' || view === 'completing' ? ' ok' : view === 'declined' || view === 'expired' || view === 'error' ? ' bad' : ''}`;
  const notice = $('notice');
  notice.hidden = !(model.transport === 'offline' && ACTIVE.includes(view));
  notice.textContent = s.offlineNotice;

  const renew = $('renew');
  renew.hidden = !(view === 'declined' || view === 'expired' || view === 'error');
  renew.textContent = view === 'error' ? s.tryAgain : s.newCode;

  const otp = !!(grant?.otp && model.otpUrl);
  const push = model.pushAvailable && !!grant;
  $('alt').hidden = view !== 'waiting' || !(otp || push);
  $('otp').hidden = !otp;
  $('push').hidden = !push;
  $('push-one').hidden = !grant?.canprovoke;
  $('push-toggle').hidden = !!grant?.canprovoke;
  if (grant?.canprovoke) $('push-form').hidden = true;

  // Keyboard users must not be left on something that just vanished: their place becomes the status line.
  const active = root.activeElement;
  if (active instanceof HTMLElement && active !== status && active.closest('[hidden]')) status.focus();
}
