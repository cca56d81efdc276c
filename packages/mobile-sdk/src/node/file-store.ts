import { webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSigningKeyPair, exportPublicKey, sign } from '@tapin/protocol';
import type { HistoryItem, HistoryStorage } from '../history.js';
import type { AccountStorage, KeyStore, StoredAccount } from '../platform.js';

/**
 * Accounts and keys in a directory (mode 0700, files 0600): what the command-line phone uses. Node has no
 * hardware keystore, so the auth keys are PKCS#8 files; protect the directory as you would an SSH key.
 */
export class FileStore implements AccountStorage, KeyStore, HistoryStorage {
  private readonly keyCache = new Map<string, CryptoKey>();

  constructor(readonly home: string) {}

  private get accountsFile() {
    return join(this.home, 'accounts.json');
  }

  private get historyFile() {
    return join(this.home, 'history.json');
  }

  private keyFile(id: string) {
    if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`bad key name ${id}`);
    return join(this.home, 'keys', `${id}.pk8`);
  }

  private async ensureDirs(): Promise<void> {
    await mkdir(join(this.home, 'keys'), { recursive: true, mode: 0o700 });
    await chmod(this.home, 0o700);
  }

  /** Writes atomically (temp file + rename) so a crash never leaves half a file. */
  private async writePrivate(file: string, data: string): Promise<void> {
    await this.ensureDirs();
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, file);
  }

  private async readJson<T>(file: string): Promise<T[]> {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as T[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`cannot read ${file}: ${(err as Error).message}`);
    }
  }

  list(): Promise<StoredAccount[]> {
    return this.readJson<StoredAccount>(this.accountsFile);
  }

  listHistory(): Promise<HistoryItem[]> {
    return this.readJson<HistoryItem>(this.historyFile);
  }

  async saveHistory(item: HistoryItem): Promise<void> {
    const all = (await this.listHistory()).filter((h) => h.id !== item.id);
    all.push(item);
    await this.writePrivate(this.historyFile, `${JSON.stringify(all, null, 2)}\n`);
  }

  async pruneHistory(before: number): Promise<void> {
    const all = await this.listHistory();
    const kept = all.filter((h) => h.updated >= before);
    if (kept.length !== all.length) await this.writePrivate(this.historyFile, `${JSON.stringify(kept, null, 2)}\n`);
  }

  async save(account: StoredAccount): Promise<void> {
    // Replaced in place: the order of accounts is the order they were enrolled, whatever gets refreshed.
    const all = await this.list();
    const i = all.findIndex((a) => a.accountid === account.accountid);
    if (i >= 0) all[i] = account;
    else all.push(account);
    await this.writePrivate(this.accountsFile, `${JSON.stringify(all, null, 2)}\n`);
  }

  async remove(accountid: string): Promise<void> {
    const all = await this.list();
    await this.writePrivate(this.accountsFile, `${JSON.stringify(all.filter((a) => a.accountid !== accountid), null, 2)}\n`);
    await rm(this.keyFile(accountid), { force: true });
    this.keyCache.delete(accountid);
  }

  async create(id: string): Promise<string> {
    const pair = await generateSigningKeyPair(true);
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', pair.privateKey)).toString('base64');
    await this.writePrivate(this.keyFile(id), `${pkcs8}\n`);
    return exportPublicKey(pair.publicKey);
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(this.keyFile(from), this.keyFile(to));
    this.keyCache.delete(from);
  }

  async sign(id: string, message: Uint8Array): Promise<string> {
    let key = this.keyCache.get(id);
    if (!key) {
      const pkcs8 = Buffer.from((await readFile(this.keyFile(id), 'utf8')).trim(), 'base64');
      key = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
      this.keyCache.set(id, key);
    }
    return sign(key, message);
  }
}
