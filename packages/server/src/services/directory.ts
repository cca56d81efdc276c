import { type Account, type User, TapinError } from '@tapin/protocol';
import type { AccountRow, ListOptions, PageOf, UserRow } from '../store/store.js';
import type { ServiceContext } from './context.js';
import { logoutSessionsOfAccount } from './sessions.js';

/** Users and accounts as the business API shows them (never keys, OTP secrets or PIN counters). */
export function accountView(row: AccountRow): Account {
  return {
    accountid: row.accountid,
    userid: row.userid,
    description: row.description,
    created: row.created,
    lastlogin: row.lastlogin,
    blocked: row.blocked === 1,
    headless: row.pin_pk === null,
    clientVersion: row.client_version,
  };
}

export function userView(row: UserRow): User {
  return { userid: row.userid, created: row.created, attributes: JSON.parse(row.attributes) as Record<string, string>, accounts: row.accounts };
}

const mapPage = <R, V>(p: PageOf<R>, f: (r: R) => V): PageOf<V> => ({ items: p.items.map(f), marker: p.marker });

export async function listAccounts(ctx: ServiceContext, sid: string, options: ListOptions & { userid?: string }): Promise<PageOf<Account>> {
  return mapPage(await ctx.store.listAccounts(sid, options), accountView);
}

export async function getAccount(ctx: ServiceContext, sid: string, accountid: string): Promise<Account> {
  const row = await ctx.store.getAccount(sid, accountid);
  if (!row) throw new TapinError('account_not_found');
  return accountView(row);
}

// Blocking or deleting an account ends its logged-in sessions. The account changes first, so that no login by it
// can start after its sessions were ended (a login in flight is refused by its activeAccount guard).

export async function deleteAccount(ctx: ServiceContext, sid: string, accountid: string): Promise<void> {
  if (!(await ctx.store.deleteAccount(sid, accountid))) throw new TapinError('account_not_found');
  await logoutSessionsOfAccount(ctx, sid, accountid);
}

export async function setBlocked(ctx: ServiceContext, sid: string, accountid: string, blocked: boolean): Promise<Account> {
  // Unblocking also forgives earlier wrong PINs; otherwise one more mistake would block again at once.
  const patch = blocked ? { blocked: 1 } : { blocked: 0, pin_failures: 0 };
  if (!(await ctx.store.updateAccount(sid, accountid, patch))) throw new TapinError('account_not_found');
  if (blocked) await logoutSessionsOfAccount(ctx, sid, accountid);
  return getAccount(ctx, sid, accountid);
}

export async function assignAccount(ctx: ServiceContext, sid: string, accountid: string, userid: string | null): Promise<Account> {
  if (!(await ctx.store.getAccount(sid, accountid))) throw new TapinError('account_not_found');
  if (userid !== null) await ctx.store.ensureUser(sid, userid, ctx.now());
  await ctx.store.updateAccount(sid, accountid, { userid });
  return getAccount(ctx, sid, accountid);
}

export async function listUsers(ctx: ServiceContext, sid: string, options: ListOptions): Promise<PageOf<User>> {
  return mapPage(await ctx.store.listUsers(sid, options), userView);
}

export async function getUser(ctx: ServiceContext, sid: string, userid: string): Promise<User> {
  const row = await ctx.store.getUser(sid, userid);
  if (!row) throw new TapinError('user_not_found');
  return userView(row);
}

export async function deleteUser(ctx: ServiceContext, sid: string, userid: string): Promise<void> {
  if (!(await ctx.store.deleteUser(sid, userid))) throw new TapinError('user_not_found');
}

export async function deleteUserAccounts(ctx: ServiceContext, sid: string, userid: string): Promise<void> {
  await getUser(ctx, sid, userid);
  for (const accountid of await ctx.store.deleteAccountsOfUser(sid, userid)) await logoutSessionsOfAccount(ctx, sid, accountid);
}

export async function setUserAttributes(ctx: ServiceContext, sid: string, userid: string, attributes: Record<string, string>): Promise<Record<string, string>> {
  await getUser(ctx, sid, userid);
  await ctx.store.setUserAttributes(sid, userid, JSON.stringify(attributes));
  return attributes;
}
