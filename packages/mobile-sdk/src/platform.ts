import type { ServerParams } from '@tapin/protocol';

/** An account as the phone keeps it. `otpkey` and `pinSalt` are secrets and never leave the phone again. */
export interface StoredAccount {
  accountid: string;
  sid: string;
  /** The server's public URL, from the enrol link. */
  base: string;
  /** Server parameters as signed at enrolment; `server.serverpk` is pinned from then on. */
  server: ServerParams;
  otpref: number;
  otpkey: string;
  userid: string | null;
  description: string;
  /** Salt for the second-factor key; null for a headless account (no PIN). */
  pinSalt: string | null;
  pinIterations: number;
  created: number;
  /** True while the server's last word on this account was "blocked"; an answer after that unblocks it (AccountUpdate). */
  blocked?: boolean;
}

/**
 * Where the SDK keeps accounts. Small on purpose: a browser implements it over IndexedDB, Node over files,
 * a native app over its keychain-backed storage.
 */
export interface AccountStorage {
  list(): Promise<StoredAccount[]>;
  save(account: StoredAccount): Promise<void>;
  remove(accountid: string): Promise<void>;
}

/**
 * Holds the accounts' auth keys (ECDSA P-256). Implementations keep private keys out of reach of the rest of the
 * app where the platform allows it (non-extractable WebCrypto keys, hardware keystores).
 */
export interface KeyStore {
  /** Makes a key pair for `accountid` and returns the public key (base64url, uncompressed point). */
  create(accountid: string): Promise<string>;
  /** IEEE P1363 signature, base64url. */
  sign(accountid: string, message: Uint8Array): Promise<string>;
  /** Moves a key to another name (the server assigns the account id after the key exists). */
  rename(from: string, to: string): Promise<void>;
  remove(accountid: string): Promise<void>;
}

export type Fetch = typeof globalThis.fetch;
