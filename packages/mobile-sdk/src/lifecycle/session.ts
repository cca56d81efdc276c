import type { DeviceSession, LinkData, SessionInfo, TapinError } from '@tapin/protocol';
import type { StoredAccount } from '../platform.js';

/** DESIGN §7: STARTING → USER_INTERACTION → ACTIVE (logged in, pinging) or DONE, or ERROR. */
export type LifecycleState = 'STARTING' | 'USER_INTERACTION' | 'ACTIVE' | 'DONE' | 'ERROR';

export interface ApproveOptions {
  /** Which account logs in, when several can. */
  accountid?: string;
  pin?: string;
  /** Push login with number matching: the number the user picked among `session.numbers` (the one the page shows). */
  number?: number;
}

export interface DeclineOptions {
  /** "I did not try to log in". */
  notMe?: boolean;
}

export interface EnrolAnswer {
  pin?: string;
  description?: string;
}

/** What a session asks its SDK to do; keeps the session object free of network and storage. */
export interface SessionController {
  approve(session: TapinSession, options: ApproveOptions): Promise<void>;
  decline(session: TapinSession, options: DeclineOptions): Promise<void>;
  enrol(session: TapinSession, answer: EnrolAnswer): Promise<void>;
  cancel(session: TapinSession): Promise<void>;
}

let counter = 0;

/**
 * One login (or enrolment) as the app sees it. Read its fields to render; call approve / decline / enrol to
 * answer; the SDK's callbacks say when something changed.
 */
export class TapinSession {
  readonly id = `s${++counter}-${Date.now().toString(36)}`;
  state: LifecycleState = 'STARTING';
  otpAvailable = false;
  connectionError = false;
  /** The accounts that may answer (login) — the first is used until the app picks another. */
  accounts: StoredAccount[] = [];
  account: StoredAccount | undefined;
  announceinfo: SessionInfo | null = null;
  sessioninfo: SessionInfo | null = null;
  pinRequired = false;
  pingTime = 0;
  /** A push login (it came from the server, not from a scan). */
  push = false;
  /** Number matching: the three numbers to offer; the user picks the one the login page shows. */
  numbers: number[] | undefined;
  error: TapinError | undefined;
  /**
   * App-to-app login: where to send the user after approving or declining — the server's normalized form of the
   * link's `?return=`, set only once the server allowed it. Navigate to this, never to the link's raw text.
   */
  returnUrl: string | undefined;
  /** In-app login (`sdk.appLogin()`): pings report how long the app has gone unused. */
  inApp = false;
  readonly started = Date.now();
  /** @internal the fetched session (challenge) the next answer signs. */
  device: DeviceSession | undefined;

  constructor(readonly link: LinkData, private readonly controller: SessionController) {}

  get kind(): 'login' | 'enrol' {
    return this.link.type;
  }

  get hsid(): string | undefined {
    return this.link.type === 'login' ? this.link.hsid : undefined;
  }

  get ended(): boolean {
    return this.state === 'DONE' || this.state === 'ERROR';
  }

  approve(options: ApproveOptions = {}): Promise<void> {
    return this.controller.approve(this, options);
  }

  decline(options: DeclineOptions = {}): Promise<void> {
    return this.controller.decline(this, options);
  }

  enrol(answer: EnrolAnswer = {}): Promise<void> {
    return this.controller.enrol(this, answer);
  }

  /** Stops the session on the phone (user backed out) without answering the server. */
  cancel(): Promise<void> {
    return this.controller.cancel(this);
  }
}
