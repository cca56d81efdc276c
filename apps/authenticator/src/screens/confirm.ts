import type { TapinSession } from '@tapin/mobile-sdk';
import type { AppContext } from '../context.js';
import { infoRows, siteName } from '../describe.js';
import { button, h, logo, show } from '../dom.js';
import { pinPad } from './pin-pad.js';
import { showWorking } from './result.js';

/**
 * Confirm a login: who asks (site, IP, browser, logo from the announceinfo), the account, and the answers. A push
 * with number matching offers three numbers instead of Approve: picking the one the page shows approves.
 */
export function showConfirm(app: AppContext, session: TapinSession): void {
  const info = session.announceinfo;
  const server = app.serverName(session.account);
  const site = siteName(info, server);
  let accountid = session.account?.accountid;

  const approve = (number?: number) => {
    const go = (pin?: string) => {
      showWorking('Approving…');
      void session.approve({ ...(accountid ? { accountid } : {}), ...(pin !== undefined ? { pin } : {}), ...(number !== undefined ? { number } : {}) });
    };
    if (session.pinRequired) askPin(app, session, (pin) => go(pin), undefined, number);
    else go();
  };
  const decline = (notMe: boolean) => {
    showWorking('Declining…');
    void session.decline({ notMe });
  };

  const rows = infoRows(info);
  const accounts = session.accounts.length > 1
    ? h('label', { class: 'field' }, 'Log in as',
      h('select', { onchange: (e) => (accountid = (e.target as HTMLSelectElement).value) },
        ...session.accounts.map((a) => h('option', { value: a.accountid }, `${a.userid ?? a.description} (${a.description})`))))
    : h('p', { class: 'muted' }, `${server} · ${session.account?.userid ?? session.account?.description ?? ''}`);

  show('confirm',
    h('section', { class: 'card confirm' },
      logo(info?.logo, `${site} logo`),
      h('p', { class: 'eyebrow' }, session.push ? 'Login request' : 'Log in'),
      h('h1', {}, `Log in to ${site}?`),
      accounts,
      rows.length ? h('dl', { class: 'facts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])) : null,
      session.returnUrl ? h('p', { class: 'muted' }, 'You will be taken back to the app that sent you here.') : null),
    session.numbers
      ? h('section', { class: 'numbers' },
        h('h2', {}, 'Which number does the login page show?'),
        h('div', { class: 'number-row' }, ...session.numbers.map((n) => h('button', { type: 'button', class: 'number', 'data-number': String(n), onclick: () => approve(n) }, String(n)))))
      : null,
    h('div', { class: 'actions' },
      session.numbers ? null : button('Approve', () => approve(), 'primary'),
      button('Decline', () => decline(false), 'secondary'),
      session.push ? button('I did not try to log in', () => decline(true), 'link') : null));
}

/** The number picked on the confirm screen, kept for a second try after a wrong PIN. */
let pickedNumber: number | undefined;

/** The PIN pad for a session; `message` after a wrong PIN. */
export function askPin(app: AppContext, session: TapinSession, onPin: (pin: string) => void, message?: string, number?: number): void {
  show('pin', pinPad({
    title: `PIN for ${app.serverName(session.account)}`,
    message,
    onPin: (pin) => {
      showWorking('Checking PIN…');
      onPin(pin);
    },
    onCancel: () => showConfirm(app, session),
  }));
  pickedNumber = number;
}

/** SecondFactor said PIN_FAIL: ask again, saying how many tries are left before the account is blocked. */
export function askPinAgain(app: AppContext, session: TapinSession, attemptsLeft: number): void {
  const number = pickedNumber;
  askPin(app, session, (pin) => {
    void session.approve({ pin, ...(session.account ? { accountid: session.account.accountid } : {}), ...(number !== undefined ? { number } : {}) });
  }, `Wrong PIN — ${attemptsLeft} ${attemptsLeft === 1 ? 'attempt' : 'attempts'} left before this account is blocked.`, number);
}
