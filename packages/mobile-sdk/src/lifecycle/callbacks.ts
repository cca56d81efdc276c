import type { ErrorCode, SessionInfo } from '@tapin/protocol';
import type { StoredAccount } from '../platform.js';
import type { TapinSession } from './session.js';

export interface ConfirmLoginRequest {
  announceinfo: SessionInfo | null;
  /** The accounts that can log in here; with several, the app lets the user pick one. */
  accounts: StoredAccount[];
  /** The server will ask for the PIN (SecondFactor follows approve without a PIN). */
  pinRequired: boolean;
  /** A push login: nobody scanned anything, the site asked for this. */
  push: boolean;
  /** Number matching: show these three; approve with the one the user picks (`approve({number})`); a wrong pick cancels. */
  numbers?: number[];
}

export interface ConfirmEnrolRequest {
  serverName: string;
  serverLogo: string;
  /** The virtual server's public key (pinned from now on): show a visual hash of it so the user can compare. */
  serverKey: string;
  /** The account name the site suggests. */
  suggestedName: string;
}

export type SecondFactorResult = 'SUCCESS' | 'PIN_FAIL';

export interface SecondFactorRequest {
  /** Absent when the SDK asks for the PIN; set when it reports the outcome of one. */
  result?: SecondFactorResult;
  attemptsLeft?: number;
}

export interface UserError {
  /** The numeric code of the platform Tapin re-creates: 70 = server connection error, 32 = QR parse error, … */
  errorCode: number;
  code: ErrorCode;
  message: string;
}

/**
 * What an authenticator app hears from the SDK, named as in DESIGN §7. All optional; each is called at most once
 * per event, in the order the events happen.
 */
export interface TapinCallbacks {
  /** Fired in STARTING, before any network answer, when this server allows offline codes. */
  OTPAvailable?(session: TapinSession): void;
  ConfirmLogin?(session: TapinSession, request: ConfirmLoginRequest): void;
  ConfirmEnrol?(session: TapinSession, request: ConfirmEnrolRequest): void;
  SecondFactor?(session: TapinSession, request: SecondFactorRequest): void;
  /** Any visible change of the session: state, connectionError, chosen account. */
  SessionUpdate?(session: TapinSession): void;
  SessionStop?(session: TapinSession): void;
  /** The server blocked (or unblocked) an account. */
  AccountUpdate?(account: StoredAccount, change: { blocked: boolean }): void;
  /** The server no longer knows the account; the SDK has removed it from the phone. */
  AccountDeleted?(account: StoredAccount): void;
  UserErrorMessage?(session: TapinSession | undefined, error: UserError): void;
}
