import {
  type ServerParams, type ServerSettings, type ServerSettingsUpdate, type SignedServerParams, TapinError,
  checkReturnUrlEntries, exportPublicKey, randomId, serverParamsStatement, sign,
} from '@tapin/protocol';
import type { ServerRow } from '../store/store.js';
import type { ServiceContext } from './context.js';
import { createApiKey } from './api-key-admin.js';
import { ExpiringCache, perContext } from './expiring-cache.js';

export const DEFAULT_SETTINGS = { pingTime: 0, pinTimeout: 0, pinTransTimeout: 0, serverFlags: [] as string[], returnUrls: [] as string[], inactivityTimeout: 300 };

export interface CreatedServer {
  sid: string;
  name: string;
  apiKey: string;
}

/** Creates a virtual server with its own P-256 key pair and a first API key (returned once, stored hashed). */
export async function createVirtualServer(ctx: ServiceContext, name: string): Promise<CreatedServer> {
  const sid = randomId(16);
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  await ctx.store.createServer({
    sid,
    name,
    logo: '',
    public_key: await exportPublicKey(pair.publicKey),
    private_key_enc: ctx.box.seal(pkcs8, `server-key:${sid}`),
    ping_time: DEFAULT_SETTINGS.pingTime,
    pin_timeout: DEFAULT_SETTINGS.pinTimeout,
    pin_trans_timeout: DEFAULT_SETTINGS.pinTransTimeout,
    server_flags: JSON.stringify(DEFAULT_SETTINGS.serverFlags),
    created: ctx.now(),
    return_urls: JSON.stringify(DEFAULT_SETTINGS.returnUrls),
    inactivity_timeout: DEFAULT_SETTINGS.inactivityTimeout,
  });
  const apiKey = await createApiKey(ctx, sid);
  return { sid, name, apiKey };
}

/**
 * Server rows are read on nearly every request and change only when an administrator changes settings, so each
 * process keeps them for a second: a settings change made through another instance shows within that second,
 * one made through this instance at once.
 */
const serverCache = perContext<ServiceContext, ServerRow>(() => new ExpiringCache(1000));

export async function requireServer(ctx: ServiceContext, sid: string): Promise<ServerRow> {
  const row = await serverCache(ctx).get(sid, () => ctx.store.getServer(sid));
  if (!row) throw new TapinError('server_not_found');
  return row;
}

export function serverFlags(row: ServerRow): string[] {
  return JSON.parse(row.server_flags) as string[];
}

export function returnUrls(row: ServerRow): string[] {
  return JSON.parse(row.return_urls) as string[];
}

export function settingsView(row: ServerRow): ServerSettings {
  return {
    sid: row.sid,
    name: row.name,
    logo: row.logo,
    serverpk: row.public_key,
    pingTime: row.ping_time,
    pinTimeout: row.pin_timeout,
    pinTransTimeout: row.pin_trans_timeout,
    serverFlags: serverFlags(row),
    returnUrls: returnUrls(row),
    inactivityTimeout: row.inactivity_timeout,
  };
}

export async function updateSettings(ctx: ServiceContext, sid: string, update: ServerSettingsUpdate): Promise<ServerSettings> {
  await requireServer(ctx, sid);
  const patch: Partial<ServerRow> = {};
  if (update.name !== undefined) patch.name = update.name;
  if (update.logo !== undefined) patch.logo = update.logo;
  if (update.pingTime !== undefined) patch.ping_time = update.pingTime;
  if (update.pinTimeout !== undefined) patch.pin_timeout = update.pinTimeout;
  if (update.pinTransTimeout !== undefined) patch.pin_trans_timeout = update.pinTransTimeout;
  if (update.serverFlags !== undefined) patch.server_flags = JSON.stringify([...new Set(update.serverFlags)]);
  if (update.returnUrls !== undefined) {
    // Checked here, not only by the schema: an entry that cannot be parsed would silently allow nothing.
    checkReturnUrlEntries(update.returnUrls);
    patch.return_urls = JSON.stringify([...new Set(update.returnUrls)]);
  }
  if (update.inactivityTimeout !== undefined) patch.inactivity_timeout = update.inactivityTimeout;
  await ctx.store.updateServer(sid, patch);
  serverCache(ctx).delete(sid);
  return settingsView(await requireServer(ctx, sid));
}

const signingKeys = new WeakMap<ServiceContext, Map<string, CryptoKey>>();

async function signingKey(ctx: ServiceContext, row: ServerRow): Promise<CryptoKey> {
  let cache = signingKeys.get(ctx);
  if (!cache) signingKeys.set(ctx, (cache = new Map()));
  const hit = cache.get(row.sid);
  if (hit) return hit;
  const pkcs8 = ctx.box.open(row.private_key_enc, `server-key:${row.sid}`);
  const key = await crypto.subtle.importKey('pkcs8', pkcs8 as Uint8Array<ArrayBuffer>, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  cache.set(row.sid, key);
  return key;
}

/** The parameters a phone pins at enrolment, signed so that later copies can be checked against the pinned key. */
export async function signedServerParams(ctx: ServiceContext, row: ServerRow): Promise<SignedServerParams> {
  const params: ServerParams = {
    sid: row.sid,
    name: row.name,
    logo: row.logo,
    publicUrl: ctx.publicUrl,
    serverpk: row.public_key,
    pingTime: row.ping_time,
    pinTimeout: row.pin_timeout,
    serverFlags: serverFlags(row),
    issued: ctx.now(),
  };
  return { params, signature: await sign(await signingKey(ctx, row), serverParamsStatement(params)) };
}
