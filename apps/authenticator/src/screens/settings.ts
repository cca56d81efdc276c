import type { StoredAccount } from '@tapin/mobile-sdk';
import { PIN_RE } from '@tapin/mobile-sdk';
import { TapinError } from '@tapin/protocol';
import type { AppContext } from '../context.js';
import { button, h, show, toast } from '../dom.js';

/** Change (or set) the PIN of an account; turn login notifications on. */
export async function showSettings(app: AppContext): Promise<void> {
  const accounts = await app.sdk.accounts();
  const push = h('p', { class: 'muted small', 'data-testid': 'push-status' },
    'PushManager' in window ? (Notification.permission === 'granted' ? 'Notifications are allowed.' : 'Get a notification when a site asks you to log in.') : 'This browser cannot show login notifications.');
  show('settings',
    h('h1', { class: 'page-title' }, 'Settings'),
    h('section', { class: 'card' },
      h('h2', {}, 'Login notifications'), push,
      'PushManager' in window && accounts.length
        ? button('Turn on notifications', () => void app.enablePush().then((m) => (push.textContent = m), (e: unknown) => (push.textContent = (e as Error).message)), 'secondary')
        : null),
    ...accounts.map((a) => pinCard(app, a)),
    h('p', { class: 'muted small center-text' }, 'Tapin authenticator · keys stay on this device'));
}

function pinCard(app: AppContext, account: StoredAccount): HTMLElement {
  const hasPin = account.pinSalt !== null;
  const field = (id: string, label: string) => {
    const input = h('input', { id, type: 'password', inputmode: 'numeric', pattern: '[0-9]*', maxlength: 12, autocomplete: id === 'old' ? 'current-password' : 'new-password' });
    return { input, label: h('label', { class: 'field' }, label, input) };
  };
  const old = field(`old-${account.accountid}`, 'Current PIN');
  const next = field(`new-${account.accountid}`, 'New PIN');
  const again = field(`again-${account.accountid}`, 'Repeat the new PIN');
  const message = h('p', { role: 'status', hidden: true });
  const say = (text: string, bad = true) => {
    message.textContent = text;
    message.className = bad ? 'alert' : 'ok';
    message.hidden = false;
  };
  const submit = async () => {
    if (!PIN_RE.test(next.input.value)) return say('The new PIN must be 4 to 12 digits.');
    if (next.input.value !== again.input.value) return say('The new PINs are not the same.');
    try {
      await app.sdk.changePin(account, { ...(hasPin ? { oldPin: old.input.value } : {}), newPin: next.input.value });
      for (const f of [old, next, again]) f.input.value = '';
      say('PIN changed.', false);
      toast('PIN changed.');
    } catch (err) {
      if (err instanceof TapinError && err.code === 'pin_wrong') {
        const left = Number(err.details?.['attemptsLeft'] ?? 0);
        say(`Wrong current PIN — ${left} ${left === 1 ? 'attempt' : 'attempts'} left before this account is blocked.`);
      } else if (err instanceof TapinError && err.code === 'account_blocked') {
        say(`${account.server.name} has blocked this account.`);
      } else {
        say(err instanceof TapinError && err.code === 'connection_error' ? `Cannot reach ${account.server.name}; try again later.` : (err as Error).message);
      }
    }
  };
  return h('form', { class: 'card form', 'data-accountid': account.accountid, onsubmit: (e) => { e.preventDefault(); void submit(); } },
    h('h2', {}, `${hasPin ? 'Change PIN' : 'Set a PIN'} · ${account.server.name}`),
    h('p', { class: 'muted small' }, [account.userid, account.description].filter(Boolean).join(' · ')),
    hasPin ? old.label : null, next.label, again.label, message,
    h('button', { type: 'submit', class: 'btn btn-primary' }, hasPin ? 'Change PIN' : 'Set PIN'));
}
