import { describe, expect, it, vi } from 'vitest';
import { fakeSockets } from '../test-support/fake-socket.js';
import { HSID, deviceSession, json, makeAccount, memoryPlatform } from '../test-support/memory-platform.js';
import { TapinSDK } from './sdk.js';

/**
 * Every way the phone can hear "account_blocked" — in-app login, PIN change, the device socket's refusal — records
 * the block on the phone, so that the next answer for the account after an unblock tells the app
 * (AccountUpdate {blocked: false}). The server is a fetch routed by path that refuses everything while blocked.
 */
function fakeServer(accountid: string) {
  const server = { blocked: true };
  const fetch = vi.fn(async (input: string | URL | Request) => {
    const path = new URL(String(input)).pathname;
    if (server.blocked) return json({ error: { code: 'account_blocked', message: 'The account is blocked.' } }, 403);
    if (path.endsWith('/pushes')) return json({ items: [] });
    if (path.endsWith('/app-login')) return json({ ...deviceSession(accountid), nonce: 'nonce-nonce-nonce-nonce1', inactivityTimeout: 0 });
    if (path.endsWith('/answer')) return json({ hsid: HSID, state: 'loggedin', pingTime: 0 });
    if (path.endsWith('/pin')) return json({ ok: true });
    return json({ error: { code: 'not_found', message: 'No such route.' } }, 404);
  });
  return { server, fetch };
}

function phone(accountid: string, adapt: (p: ReturnType<typeof memoryPlatform>) => void = () => undefined) {
  const { server, fetch } = fakeServer(accountid);
  const p = memoryPlatform([makeAccount(accountid)]);
  adapt(p);
  const sockets = fakeSockets();
  const events: string[] = [];
  const sdk = new TapinSDK({
    ...p, fetch, pinIterations: 1000, WebSocket: sockets.WebSocket,
    callbacks: {
      AccountUpdate: (a, c) => events.push(`AccountUpdate ${a.accountid} blocked=${c.blocked}`),
      UserErrorMessage: (_s, e) => events.push(`UserErrorMessage ${e.errorCode}`),
    },
  });
  return { sdk, server, accounts: p.accounts, sockets, events };
}

describe('a blocked account, whichever request learns it', () => {
  it('appLogin: the block is recorded, and the next in-app login reports the unblock once', async () => {
    const id = 'acct-blocked-applogin-01';
    const { sdk, server, accounts, events } = phone(id);
    await expect(sdk.appLogin()).rejects.toMatchObject({ code: 'account_blocked' });
    expect(events).toEqual([`AccountUpdate ${id} blocked=true`, 'UserErrorMessage 52']);
    expect(accounts[0]!.blocked).toBe(true);

    server.blocked = false;
    const login = await sdk.appLogin();
    expect(login.session.state).toBe('DONE');
    expect(events.slice(2)).toEqual([`AccountUpdate ${id} blocked=false`]);
    expect(accounts[0]!.blocked).toBe(false);
    // Said once: a further login has nothing new to report.
    await sdk.appLogin();
    expect(events).toHaveLength(3);
  });

  it('changePin: the block is recorded (the PIN stays as it was), and the next pull reports the unblock', async () => {
    const id = 'acct-blocked-changepin1';
    const { sdk, server, accounts, events } = phone(id);
    const [account] = await sdk.accounts();
    await expect(sdk.changePin(account!, { newPin: '1234' })).rejects.toMatchObject({ code: 'account_blocked' });
    expect(events).toEqual([`AccountUpdate ${id} blocked=true`]);
    expect(accounts[0]).toMatchObject({ blocked: true, pinSalt: null });

    server.blocked = false;
    expect(await sdk.pull()).toEqual([]);
    expect(events.slice(1)).toEqual([`AccountUpdate ${id} blocked=false`]);
    expect(accounts[0]!.blocked).toBe(false);
  });

  it('device socket closed with 1008 account_blocked: recorded, no reconnect, and the next pull reports the unblock', async () => {
    const id = 'acct-blocked-socket-001';
    const { sdk, server, accounts, sockets, events } = phone(id);
    const disconnect = sdk.connect();
    await vi.waitFor(() => expect(sockets.opened).toHaveLength(1));
    sockets.opened[0]!.drop(1008, 'account_blocked');
    expect(events).toEqual([`AccountUpdate ${id} blocked=true`, 'UserErrorMessage 52']);
    await vi.waitFor(() => expect(accounts[0]!.blocked).toBe(true));

    server.blocked = false;
    expect(await sdk.pull()).toEqual([]);
    expect(events.slice(2)).toEqual([`AccountUpdate ${id} blocked=false`]);
    expect(accounts[0]!.blocked).toBe(false);
    expect(sockets.opened).toHaveLength(1);
    disconnect();
    sdk.dispose();
  });

  it('a successful changePin after the unblock reports it, and stores the account unblocked', async () => {
    const id = 'acct-blocked-changepin2';
    const { sdk, server, accounts, events } = phone(id);
    const [account] = await sdk.accounts();
    await expect(sdk.changePin(account!, { newPin: '1234' })).rejects.toMatchObject({ code: 'account_blocked' });
    server.blocked = false;
    // The app still holds the copy it had: blocked.
    const changed = await sdk.changePin({ ...account!, blocked: true }, { newPin: '1234' });
    expect(events).toEqual([`AccountUpdate ${id} blocked=true`, `AccountUpdate ${id} blocked=false`]);
    expect(changed.blocked).toBe(false);
    expect(accounts[0]!.blocked).toBe(false);
    expect(accounts[0]!.pinSalt).not.toBeNull();
  });

  it('the device socket\'s ready after the unblock reports it', async () => {
    const id = 'acct-blocked-socket-002';
    const { sdk, server, accounts, sockets, events } = phone(id);
    await expect(sdk.appLogin()).rejects.toMatchObject({ code: 'account_blocked' });
    server.blocked = false;
    const disconnect = sdk.connect();
    await vi.waitFor(() => expect(sockets.opened).toHaveLength(1));
    sockets.opened[0]!.onmessage?.({ data: JSON.stringify({ type: 'ready' }) });
    await vi.waitFor(() => expect(accounts[0]!.blocked).toBe(false));
    expect(events.slice(2)).toEqual([`AccountUpdate ${id} blocked=false`]);
    // Said once.
    sockets.opened[0]!.onmessage?.({ data: JSON.stringify({ type: 'ready' }) });
    await new Promise((r) => setTimeout(r, 10));
    expect(events).toHaveLength(3);
    disconnect();
    sdk.dispose();
  });

  it('an app copy older than the stored block still gets the unblock reported and stored', async () => {
    const id = 'acct-blocked-stalecopy1';
    const { sdk, server, accounts, events } = phone(id);
    // Taken before the block was learned, so it says nothing of it.
    const [stale] = await sdk.accounts();
    await expect(sdk.appLogin()).rejects.toMatchObject({ code: 'account_blocked' });
    expect(accounts[0]!.blocked).toBe(true);
    server.blocked = false;
    const changed = await sdk.changePin(stale!, { newPin: '1234' });
    expect(events.slice(2)).toEqual([`AccountUpdate ${id} blocked=false`]);
    expect(changed.blocked).toBe(false);
    expect(accounts[0]!.blocked).toBe(false);
  });

  it('a storage that fails while the block is recorded does not hide account_blocked', async () => {
    const id = 'acct-blocked-badstore01';
    const { sdk, events } = phone(id, (p) => {
      p.storage.save = async () => {
        throw new Error('disk full');
      };
    });
    await expect(sdk.appLogin()).rejects.toMatchObject({ code: 'account_blocked' });
    const [account] = await sdk.accounts();
    await expect(sdk.changePin(account!, { newPin: '1234' })).rejects.toMatchObject({ code: 'account_blocked' });
    expect(events.filter((e) => e.startsWith('AccountUpdate'))).toEqual([`AccountUpdate ${id} blocked=true`, `AccountUpdate ${id} blocked=true`]);
  });
});
