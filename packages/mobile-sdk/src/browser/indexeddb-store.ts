import { exportPublicKey, generateSigningKeyPair, sign } from '@tapin/protocol';
import type { HistoryItem, HistoryStorage } from '../history.js';
import type { AccountStorage, KeyStore, StoredAccount } from '../platform.js';

/**
 * The browser's platform parts: accounts, history and keys in IndexedDB. Private keys are WebCrypto keys made
 * non-extractable: IndexedDB stores the CryptoKey object itself, so not even this app's own scripts can read the
 * key bytes — only ask for signatures.
 */
const STORES = ['accounts', 'keys', 'history'] as const;
type StoreName = (typeof STORES)[number];

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

export class IndexedDbStore implements AccountStorage, KeyStore, HistoryStorage {
  private db: Promise<IDBDatabase> | undefined;

  constructor(private readonly name = 'tapin', private readonly factory: IDBFactory = globalThis.indexedDB) {}

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      const req = this.factory.open(this.name, 1);
      req.onupgradeneeded = () => {
        for (const store of STORES) if (!req.result.objectStoreNames.contains(store)) req.result.createObjectStore(store);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('cannot open IndexedDB'));
    });
    return this.db;
  }

  private async tx<T>(store: StoreName, mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.open();
    return request(fn(db.transaction(store, mode).objectStore(store)));
  }

  list(): Promise<StoredAccount[]> {
    return this.tx('accounts', 'readonly', (s) => s.getAll() as IDBRequest<StoredAccount[]>);
  }

  async save(account: StoredAccount): Promise<void> {
    await this.tx('accounts', 'readwrite', (s) => s.put(account, account.accountid));
  }

  async remove(accountid: string): Promise<void> {
    await this.tx('accounts', 'readwrite', (s) => s.delete(accountid));
    await this.tx('keys', 'readwrite', (s) => s.delete(accountid));
  }

  async create(id: string): Promise<string> {
    const pair = await generateSigningKeyPair(false);
    await this.tx('keys', 'readwrite', (s) => s.put(pair.privateKey, id));
    return exportPublicKey(pair.publicKey);
  }

  async rename(from: string, to: string): Promise<void> {
    const key = await this.tx('keys', 'readonly', (s) => s.get(from) as IDBRequest<CryptoKey | undefined>);
    if (!key) throw new Error(`no key ${from}`);
    await this.tx('keys', 'readwrite', (s) => s.put(key, to));
    await this.tx('keys', 'readwrite', (s) => s.delete(from));
  }

  async sign(id: string, message: Uint8Array): Promise<string> {
    const key = await this.tx('keys', 'readonly', (s) => s.get(id) as IDBRequest<CryptoKey | undefined>);
    if (!key) throw new Error(`no key for account ${id}`);
    return sign(key, message);
  }

  listHistory(): Promise<HistoryItem[]> {
    return this.tx('history', 'readonly', (s) => s.getAll() as IDBRequest<HistoryItem[]>);
  }

  async saveHistory(item: HistoryItem): Promise<void> {
    await this.tx('history', 'readwrite', (s) => s.put(item, item.id));
  }

  async pruneHistory(before: number): Promise<void> {
    for (const item of await this.listHistory()) {
      if (item.updated < before) await this.tx('history', 'readwrite', (s) => s.delete(item.id));
    }
  }
}
