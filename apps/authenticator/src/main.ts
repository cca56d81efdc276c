import { TapinSDK, type TapinSession } from '@tapin/mobile-sdk';
import { IndexedDbStore } from '@tapin/mobile-sdk/browser';
import type { ErrorCode } from '@tapin/protocol';
import type { AppContext, Tab } from './context.js';
import { siteName } from './describe.js';
import { show, toast } from './dom.js';
import { linkProblem } from './link-check.js';
import { enablePush, listenForPushes } from './push.js';
import { showAccounts } from './screens/accounts.js';
import { askPin, askPinAgain, showConfirm } from './screens/confirm.js';
import { showEnrol } from './screens/enrol.js';
import { showUnreachable } from './screens/offline.js';
import { showResult, showWorking } from './screens/result.js';
import { showSessions } from './screens/sessions.js';
import { showSettings } from './screens/settings.js';
import { leaveScan, showScan } from './screens/scan.js';

/**
 * The authenticator app: one SDK over IndexedDB with non-extractable WebCrypto keys; SDK callbacks decide the
 * screen of the session in front (`app.current`), the bottom bar the rest.
 */
const store = new IndexedDbStore();
const TABS: readonly Tab[] = ['accounts', 'scan', 'sessions', 'settings'];

const app: AppContext = {
  sdk: undefined as unknown as TapinSDK,
  current: undefined,
  go,
  openLink,
  enablePush: () => enablePush(app.sdk),
  serverName: (account) => account?.server.name ?? 'the server',
};

/** Sessions in front adopt the screen; a session the user left (cancel, offline code) no longer does. */
const inFront = (s: TapinSession) => {
  if (!app.current || app.current.ended) app.current = s;
  return app.current === s;
};

app.sdk = new TapinSDK({
  storage: store,
  keys: store,
  callbacks: {
    ConfirmEnrol: (s, request) => {
      app.current = s;
      showEnrol(s, request, () => { app.current = undefined; void s.cancel(); go('accounts'); });
    },
    ConfirmLogin: (s) => {
      app.current = s;
      showConfirm(app, s);
    },
    SecondFactor: (s, { result, attemptsLeft }) => {
      if (!inFront(s)) return;
      if (result === undefined) askPin(app, s, (pin) => void s.approve({ pin }));
      else if (result === 'PIN_FAIL' && (attemptsLeft ?? 0) > 0) askPinAgain(app, s, attemptsLeft ?? 0);
    },
    SessionUpdate: (s) => {
      if (s.ended || !inFront(s)) return;
      if (s.state === 'STARTING' && s.connectionError) showUnreachable(app, s);
      else if (s.state === 'USER_INTERACTION' && s.connectionError) toast('No connection to the server — retrying…');
      else if (s.state === 'ACTIVE') {
        showResult({ kind: 'ok', title: `Logged in to ${siteName(s.announceinfo, app.serverName(s.account))}`,
          text: 'This login stays active while this phone keeps in touch with the server.', returnUrl: s.returnUrl, onDone: () => go('sessions') });
      }
    },
    SessionStop: (s) => {
      if (app.current !== s) return;
      app.current = undefined;
      void finished(s);
    },
    AccountUpdate: (account, { blocked }) => toast(blocked ? `${account.server.name} has blocked this account.` : `${account.server.name} unblocked this account.`),
    AccountDeleted: (account) => toast(`Your account at ${account.server.name} was removed by the server.`),
    UserErrorMessage: (s, e) => {
      // Session errors show on the session's own screen; connection trouble outside a session stays quiet.
      if (!s && e.code !== 'connection_error' && e.code !== 'server_timeout') toast(e.message);
    },
  },
});

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  return_url_not_allowed: 'The app that sent you here asked to be sent back to a place this server does not allow. Nothing was approved.',
  no_accounts: 'This phone has no account at this server. Ask the site for an enrol QR code first.',
  session_expired: 'This login has expired. Reload the login page and scan the new code.',
  session_state: 'This login is already over. Reload the login page to start again.',
  enrol_token_invalid: 'This enrol code has expired or was already used. Ask the site for a new one.',
  account_blocked: 'This account is blocked (too many wrong PINs, or by the site). Ask the site to unblock it.',
  number_wrong: 'That was not the number on the login page, so the login was cancelled. If you did not start it, someone else did.',
  connection_error: 'Could not reach the server. Check the connection and try again.',
  server_auth_failed: 'The server could not prove who it is. Nothing was sent.',
};

async function finished(s: TapinSession): Promise<void> {
  const server = app.serverName(s.account);
  if (s.state === 'ERROR') {
    const code = s.error?.code;
    const raw = s.link.type === 'login' ? s.link.returnUrl : undefined;
    showResult({
      kind: 'error', title: code === 'return_url_not_allowed' ? 'Return address not allowed' : 'That did not work',
      text: (code && MESSAGES[code]) ?? s.error?.message ?? 'Something went wrong.',
      ...(code === 'return_url_not_allowed' && raw ? { detail: `Refused: ${raw}` } : {}),
      onDone: () => go('accounts'),
    });
    return;
  }
  if (s.kind === 'enrol') {
    void listen();
    showResult({ kind: 'ok', title: 'Account added', text: `You can now log in to ${server} with this phone.`, onDone: () => go('accounts') });
    return;
  }
  const item = (await app.sdk.history()).find((i) => i.hsid === s.hsid);
  const site = siteName(s.announceinfo, server);
  if (item?.status === 'LOGGED_IN_ONE_SHOT' || item?.status === 'LOGGED_IN') {
    showResult({ kind: 'ok', title: `Logged in to ${site}`, text: 'You can go back to the login page now.', returnUrl: s.returnUrl, onDone: () => go('sessions') });
  } else {
    showResult({ kind: 'declined', title: 'Login declined', text: `Nothing was logged in to ${site}.`, returnUrl: s.returnUrl, onDone: () => go('accounts') });
  }
}

/** A scanned, pasted or camera-opened link. Links of another Tapin server belong to that server's app. */
async function openLink(text: string): Promise<void> {
  leaveScan();
  const problem = linkProblem(text);
  if (problem) {
    showResult({ kind: 'error', title: 'Not a Tapin code', text: problem, onDone: () => go('scan') });
    return;
  }
  const url = new URL(text.trim());
  if (url.origin !== location.origin) {
    // Keys are per origin: that server's own app (same origin as its links) holds the account.
    location.assign(url.href);
    return;
  }
  // Once taken over, the link is not run again on reload.
  history.replaceState(null, '', '/app/');
  app.current = undefined;
  const s = await app.sdk.processQR(url.href);
  if (!inFront(s)) return;
  if (s.state === 'STARTING' && !s.connectionError) showWorking(s.kind === 'enrol' ? 'Contacting the server…' : `Contacting ${app.serverName(s.account)}…`);
}

function go(tab: Tab): void {
  leaveScan();
  history.replaceState(null, '', `/app/#${tab}`);
  for (const el of Array.from(document.querySelectorAll<HTMLButtonElement>('nav.tabs button'))) el.setAttribute('aria-current', String(el.dataset['tab'] === tab));
  if (tab === 'accounts') void showAccounts(app);
  else if (tab === 'scan') showScan(app);
  else if (tab === 'sessions') void showSessions(app);
  else void showSettings(app);
}

async function boot(): Promise<void> {
  for (const el of Array.from(document.querySelectorAll<HTMLButtonElement>('nav.tabs button'))) el.addEventListener('click', () => go(el.dataset['tab'] as Tab));
  if ('serviceWorker' in navigator) {
    // Scope '/': the worker also answers the login and enrol links offline (the server allows it with a header).
    navigator.serviceWorker.register('/app/sw.js', { scope: '/' }).catch((err: unknown) => console.warn('service worker', err));
    listenForPushes(app.sdk);
  }
  const { pathname, hash } = location;
  if (/\/(q|e)\/[^/]+\/[^/]+$/.test(pathname)) {
    await openLink(location.href);
  } else if (hash.startsWith('#push=')) {
    history.replaceState(null, '', '/app/');
    const s = await app.sdk.receiveWebPush(decodeURIComponent(hash.slice('#push='.length)));
    if (s) showWorking('Fetching the login request…');
    else go('accounts');
  } else {
    const tab = hash.slice(1) as Tab;
    go(TABS.includes(tab) ? tab : 'accounts');
  }
  await listen();
}

let disconnect: (() => void) | undefined;

/** Pushes that came while the app was closed (pull), and live ones while it is open (device socket, DESIGN §8). */
async function listen(): Promise<void> {
  void app.sdk.pull().catch(() => undefined);
  if ((await app.sdk.accounts()).length === 0) return;
  // A new account needs its own socket: start over with all of them.
  disconnect?.();
  disconnect = app.sdk.connect();
}

void boot();
window.addEventListener('hashchange', () => {
  const tab = location.hash.slice(1) as Tab;
  if (TABS.includes(tab)) go(tab);
});
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void app.sdk.pull().catch(() => undefined);
});
show('loading');
