import type { StoredAccount, TapinSDK, TapinSession } from '@tapin/mobile-sdk';

/** The tabs of the bottom bar; the other screens belong to one session (enrol, confirm, PIN, offline, result). */
export type Tab = 'accounts' | 'scan' | 'sessions' | 'settings';

/** What every screen gets: the SDK, navigation, and the link handler (scan, paste, camera-opened URLs). */
export interface AppContext {
  sdk: TapinSDK;
  go(tab: Tab): void;
  openLink(text: string): Promise<void>;
  /** Turns Web Push on for the accounts on this phone (asks the permission). */
  enablePush(): Promise<string>;
  /** The server name an account shows (the name it had at enrolment). */
  serverName(account: StoredAccount | undefined): string;
  /** The session whose screen is showing, if any. */
  current: TapinSession | undefined;
}
