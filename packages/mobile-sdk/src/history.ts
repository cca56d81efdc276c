import type { SessionInfo } from '@tapin/protocol';

/** How a session the phone took part in ended (or stands, for LOGGED_IN). */
export type HistoryStatus = 'LOGGED_IN' | 'LOGGED_IN_ONE_SHOT' | 'LOGGED_OUT' | 'ABORTED' | 'ERROR';

export interface HistoryItem {
  /** sid/hsid: unique per session. */
  id: string;
  sid: string;
  hsid: string;
  accountid: string | null;
  serverName: string;
  base: string;
  announceinfo: SessionInfo | null;
  sessioninfo: SessionInfo | null;
  status: HistoryStatus;
  /** True when the phone showed an offline code instead of answering online. */
  otp: boolean;
  started: number;
  updated: number;
  /** Error code when status is ERROR. */
  error?: string;
}

export interface HistoryStorage {
  listHistory(): Promise<HistoryItem[]>;
  /** Inserts or replaces by id. */
  saveHistory(item: HistoryItem): Promise<void>;
  /** Drops items last updated before `before` (Unix ms). */
  pruneHistory(before: number): Promise<void>;
}

export const DEFAULT_HISTORY_RETENTION_MS = 90 * 24 * 3600_000;
