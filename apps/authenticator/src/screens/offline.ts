import type { StoredAccount, TapinSession } from '@tapin/mobile-sdk';
import { OTP_INTERVAL_SECONDS, fromBase64url, generateOtp } from '@tapin/protocol';
import type { AppContext } from '../context.js';
import { button, h, show } from '../dom.js';

/** The server cannot be reached: the SDK keeps retrying; meanwhile an offline code is one tap away. */
export function showUnreachable(app: AppContext, session: TapinSession): void {
  const onDone = () => app.go('accounts');
  show('unreachable',
    h('section', { class: 'center' },
      h('div', { class: 'result-icon warn', 'aria-hidden': 'true' }, '!'),
      h('h1', {}, `Cannot reach ${app.serverName(session.account)}`),
      h('p', {}, 'Retrying… If the login page offers an offline code, you can log in without a connection.')),
    h('div', { class: 'actions' },
      session.otpAvailable ? button('Show offline code', () => void showOfflineCode(app, session), 'primary') : null,
      button('Cancel', () => { app.current = undefined; void session.cancel(); onDone(); }, 'secondary')));
}

/**
 * The offline code (no network needed) with a countdown to the next 2-minute interval, when a new code is shown.
 * The server takes the current and the previous interval's code, so the one shown stays good for a while after.
 */
export async function showOfflineCode(app: AppContext, session: TapinSession): Promise<void> {
  const onDone = () => app.go('accounts');
  const account = session.account ?? session.accounts[0];
  const hsid = session.hsid;
  if (!account || !hsid) return;
  // This screen, not the session's end, is what the user sees next.
  app.current = undefined;
  let otp = await app.sdk.generateOTP(session, account);
  const code = h('p', { class: 'otp', 'data-testid': 'otp' }, otp);
  const countdown = h('p', { class: 'muted', 'data-testid': 'otp-countdown' });
  const ms = OTP_INTERVAL_SECONDS * 1000;
  const tick = () => {
    if (!document.body.contains(code)) return clearInterval(timer);
    const now = Date.now();
    const left = Math.ceil(((Math.floor(now / ms) + 1) * ms - now) / 1000);
    countdown.textContent = `New code in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    const fresh = codeFor(account, hsid, now);
    if (fresh !== otp) code.textContent = otp = fresh;
  };
  const timer = setInterval(tick, 1000);
  show('offline',
    h('section', { class: 'center' },
      h('p', { class: 'eyebrow' }, 'Offline code'),
      h('h1', {}, 'Type this code on the login page'),
      code, countdown,
      h('p', { class: 'muted small' }, 'An offline code logs you in without your PIN; use it only on a page you opened yourself.')),
    h('div', { class: 'actions' }, button('Done', () => { clearInterval(timer); onDone(); }, 'primary')));
  tick();
}

const codeFor = (account: StoredAccount, hsid: string, now: number) => generateOtp(fromBase64url(account.otpkey), account.otpref, account.sid, hsid, now);
