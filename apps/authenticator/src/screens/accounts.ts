import type { StoredAccount } from '@tapin/mobile-sdk';
import { TapinError } from '@tapin/protocol';
import type { AppContext } from '../context.js';
import { button, h, logo, show, toast } from '../dom.js';

/** The accounts on this phone, one card each, with delete behind a second tap. */
export async function showAccounts(app: AppContext): Promise<void> {
  const accounts = (await app.sdk.accounts()).sort((a, b) => a.created - b.created);
  if (accounts.length === 0) {
    show('accounts',
      h('section', { class: 'center' },
        h('div', { class: 'result-icon', 'aria-hidden': 'true' }, '+'),
        h('h1', {}, 'No accounts yet'),
        h('p', {}, 'Scan the QR code a site shows to add this phone, or open its enrol link on this phone.')),
      h('div', { class: 'actions' }, button('Scan a QR code', () => app.go('scan'))));
    return;
  }
  show('accounts', h('h1', { class: 'page-title' }, 'Accounts'), ...accounts.map((a) => accountCard(app, a)));
}

function accountCard(app: AppContext, account: StoredAccount): HTMLElement {
  const actions = h('div', { class: 'row-actions' });
  const ask = () => {
    actions.replaceChildren(
      h('p', { class: 'alert' }, `Delete this account? ${account.server.name} will no longer accept this phone.`),
      button('Delete', () => void remove(false), 'danger'),
      button('Keep', () => actions.replaceChildren(deleteButton), 'secondary'));
  };
  const remove = async (localOnly: boolean) => {
    try {
      await app.sdk.deleteAccount(account, { localOnly });
      toast(`Deleted the account at ${account.server.name}.`);
      await showAccounts(app);
    } catch (err) {
      const offline = err instanceof TapinError && (err.code === 'connection_error' || err.code === 'server_timeout');
      actions.replaceChildren(
        h('p', { class: 'alert' }, offline ? `Cannot reach ${account.server.name}.` : (err as Error).message),
        button('Remove from this phone only', () => void remove(true), 'danger'),
        button('Keep', () => actions.replaceChildren(deleteButton), 'secondary'));
    }
  };
  const deleteButton = button('Delete', ask, 'link', { 'aria-label': `Delete account at ${account.server.name}` });
  actions.append(deleteButton);
  return h('article', { class: 'card account', 'data-accountid': account.accountid },
    h('div', { class: 'account-head' },
      logo(account.server.logo, '') ?? h('div', { class: 'avatar', 'aria-hidden': 'true' }, account.server.name.charAt(0).toUpperCase()),
      h('div', {},
        h('h2', {}, account.server.name),
        h('p', { class: 'muted' }, [account.userid, account.description].filter(Boolean).join(' · ')),
        h('p', { class: 'muted small' }, `${new URL(account.base).host} · added ${new Date(account.created).toLocaleDateString()}`, account.pinSalt ? '' : ' · no PIN'))),
    actions);
}
