import type { HistoryItem, HistoryStatus } from '@tapin/mobile-sdk';
import type { AppContext } from '../context.js';
import { infoRows, siteName, timeAgo } from '../describe.js';
import { button, h, show, toast } from '../dom.js';

const STATUS: Record<HistoryStatus, string> = {
  LOGGED_IN: 'Active', LOGGED_IN_ONE_SHOT: 'Active', LOGGED_OUT: 'Logged out', ABORTED: 'Declined', ERROR: 'Failed',
};
const active = (item: HistoryItem) => item.status === 'LOGGED_IN' || item.status === 'LOGGED_IN_ONE_SHOT';

/** Where this phone logged in: active sessions first (each can be logged out from here), then the past ones. */
export async function showSessions(app: AppContext): Promise<void> {
  show('sessions', h('h1', { class: 'page-title' }, 'Sessions'), h('p', { class: 'muted' }, 'Checking…'));
  let items: HistoryItem[];
  let stale = false;
  try {
    items = await app.sdk.refreshSessions();
  } catch {
    // Offline: what the phone knows.
    items = await app.sdk.history();
    stale = true;
  }
  const now = items.filter(active);
  const past = items.filter((i) => !active(i));
  show('sessions',
    h('h1', { class: 'page-title' }, 'Sessions'),
    stale ? h('p', { class: 'alert' }, 'Offline: this list may be out of date.') : null,
    h('h2', { class: 'section-title' }, `Active (${now.length})`),
    ...(now.length ? now.map((i) => card(app, i)) : [h('p', { class: 'muted' }, 'Nothing is logged in with this phone.')]),
    h('h2', { class: 'section-title' }, 'Earlier'),
    ...(past.length ? past.slice(0, 50).map((i) => card(app, i)) : [h('p', { class: 'muted' }, 'No earlier sessions.')]));
}

function card(app: AppContext, item: HistoryItem): HTMLElement {
  const info = item.sessioninfo ?? item.announceinfo;
  const rows = infoRows(info);
  return h('article', { class: `card session ${active(item) ? 'active' : 'past'}`, 'data-hsid': item.hsid },
    h('div', { class: 'session-head' },
      h('h3', {}, siteName(item.announceinfo ?? item.sessioninfo, item.serverName)),
      h('span', { class: `chip ${item.status.toLowerCase()}` }, item.otp ? 'Offline code' : STATUS[item.status])),
    h('p', { class: 'muted small' }, `${item.serverName} · ${timeAgo(item.started)}`),
    rows.length ? h('dl', { class: 'facts small' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])) : null,
    active(item)
      ? button('Log out', () => void app.sdk.logout(item.hsid).then(
        () => { toast('Logged out.'); return showSessions(app); },
        (err: unknown) => toast(`Could not log out: ${(err as Error).message}`)), 'danger')
      : null);
}
