import Type from 'typebox';

/**
 * Wire shapes shared by server, client and SDK (JSON Schema via TypeBox), so that the three cannot drift apart.
 * The server validates every network input against these; the limits here are part of the contract.
 */
export const MAX_CONTEXT_BYTES = 4096;

const Id = (description: string) => Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description });
export const Sid = Id('Virtual server id');
export const Hsid = Type.String({ minLength: 22, maxLength: 22, pattern: '^[A-Za-z0-9_-]+$', description: 'Public session handle' });
export const AccountId = Id('Account id (128 random bits, base64url)');
export const UserId = Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\u0000-\\u001f\\u007f/]+$', description: 'Business user name' });
export const B64 = (description: string, maxLength = 512) => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+$', description });

export const SessionInfo = Type.Object(
  {
    info: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 1024 }), { maxProperties: 32 })),
    ip: Type.Optional(Type.String({ maxLength: 64 })),
    useragent: Type.Optional(Type.String({ maxLength: 1024 })),
    logo: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: false, description: 'What the phone shows: at most 4 KiB as JSON' },
);
export type SessionInfo = Type.Static<typeof SessionInfo>;

export const UserContext = Type.Object(
  { announceinfo: Type.Optional(SessionInfo), sessioninfo: Type.Optional(SessionInfo) },
  { additionalProperties: false },
);
export type UserContext = Type.Static<typeof UserContext>;

export const SESSION_STATES = ['idle', 'scanned', 'provoked', 'loggedin', 'loggedout', 'cancelled', 'expired'] as const;
export type SessionState = (typeof SESSION_STATES)[number];
export const SessionStateSchema = Type.Union([
  Type.Literal('idle'), Type.Literal('scanned'), Type.Literal('provoked'), Type.Literal('loggedin'),
  Type.Literal('loggedout'), Type.Literal('cancelled'), Type.Literal('expired'),
]);

export const LoginStatus = Type.Object({
  loggedin: Type.Boolean(),
  accountid: Type.Union([AccountId, Type.Null()]),
  userid: Type.Union([Type.String(), Type.Null()]),
  otplogin: Type.Boolean(),
  canprovoke: Type.Boolean(),
  hsid: Hsid,
  loginqrdata: Type.String({ description: 'The login URL to show as a QR code' }),
  state: SessionStateSchema,
  expires: Type.Union([Type.Number({ description: 'Unix ms when a not-logged-in session expires' }), Type.Null()]),
});
export type LoginStatus = Type.Static<typeof LoginStatus>;

export const ErrorBodySchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
  }),
});

export const ServerParamsSchema = Type.Object({
  sid: Sid,
  name: Type.String(),
  logo: Type.String(),
  publicUrl: Type.String(),
  serverpk: Type.String(),
  pingTime: Type.Integer(),
  pinTimeout: Type.Integer(),
  serverFlags: Type.Array(Type.String()),
  issued: Type.Integer(),
});

export const SignedServerParams = Type.Object({ params: ServerParamsSchema, signature: B64('Virtual server signature over tapin/server/1') });
export type SignedServerParams = Type.Static<typeof SignedServerParams>;

export const EnrolRequest = Type.Object(
  {
    token: B64('Enrol token from the enrol link', 64),
    authpk: B64('Auth public key, uncompressed P-256 point', 100),
    pinpk: Type.Union([B64('Second-factor public key', 100), Type.Null()]),
    description: Type.String({ maxLength: 128, description: 'Device name' }),
    clientVersion: Type.String({ maxLength: 64 }),
    signature: B64('Auth key signature over tapin/enrol/1', 100),
    pinsignature: Type.Optional(B64('Second-factor signature over tapin/enrol/1', 100)),
  },
  { additionalProperties: false },
);
export type EnrolRequest = Type.Static<typeof EnrolRequest>;

export const EnrolResponse = Type.Object({
  accountid: AccountId,
  otpref: Type.Integer(),
  otpkey: B64('OTP key (HMAC-SHA256)'),
  userid: Type.Union([Type.String(), Type.Null()]),
  server: SignedServerParams,
});
export type EnrolResponse = Type.Static<typeof EnrolResponse>;

export const DeviceSession = Type.Object({
  sid: Sid,
  hsid: Hsid,
  accountid: AccountId,
  state: SessionStateSchema,
  announceinfo: Type.Union([SessionInfo, Type.Null()]),
  challenge: B64('One-time challenge to sign', 64),
  challengeExpires: Type.Integer(),
  pinRequired: Type.Boolean(),
  expires: Type.Union([Type.Integer(), Type.Null()]),
  sessioninfo: Type.Union([SessionInfo, Type.Null()]),
  /** Current server settings, so the phone's copy (OTP allowed? ping?) stays fresh. */
  serverFlags: Type.Array(Type.String()),
  pingTime: Type.Integer(),
  /** Push login with number matching: the three numbers to choose from; the page shows the right one. */
  numbers: Type.Optional(Type.Array(Type.Integer({ minimum: 10, maximum: 99 }), { minItems: 3, maxItems: 3 })),
  /**
   * App-to-app login: the return URL the phone asked about (`?return=` on the fetch), normalized, once the server has
   * matched it against the virtual server's `returnUrls`. The phone sends the user there after answering, and
   * nowhere else.
   */
  returnUrl: Type.Optional(Type.String()),
});
export type DeviceSession = Type.Static<typeof DeviceSession>;

/** In-app login: what the app may say about the session it asks for (shown in the phone's own session overview). */
export const AppLoginRequest = Type.Object(
  { announceinfo: Type.Optional(SessionInfo), sessioninfo: Type.Optional(SessionInfo) },
  { additionalProperties: false },
);
export type AppLoginRequest = Type.Static<typeof AppLoginRequest>;

/**
 * In-app login: a fresh session made for the calling account, already opened (challenge issued), plus the web
 * nonce the app hands to its own back-end, which reads the login with getSession.
 */
export const AppLoginResponse = Type.Object({
  ...DeviceSession.properties,
  nonce: Type.String({ description: 'The session nonce: for the app\'s own back-end only (it reads the login with getSession)' }),
  inactivityTimeout: Type.Integer({ description: 'Seconds without use of the app after which a session kept alive by pings ends (0 = never)' }),
});
export type AppLoginResponse = Type.Static<typeof AppLoginResponse>;

/** A PIN change (signed request): both second-factor keys sign `tapin/pin/1`. */
export const PinChangeRequest = Type.Object(
  {
    pinpk: B64('The new second-factor public key', 100),
    pinsignature: Type.Optional(B64('The current second-factor key over tapin/pin/1 (proves the current PIN; absent for a headless account)', 100)),
    newpinsignature: B64('The new second-factor key over tapin/pin/1', 100),
  },
  { additionalProperties: false },
);
export type PinChangeRequest = Type.Static<typeof PinChangeRequest>;

export const AnswerRequest = Type.Object(
  {
    accountid: AccountId,
    decision: Type.Union([Type.Literal('approve'), Type.Literal('decline')]),
    challenge: B64('The challenge from the session fetch', 64),
    signature: B64('Auth key signature over tapin/login/1', 100),
    pinsignature: Type.Optional(B64('Second-factor signature over tapin/login/1', 100)),
    number: Type.Optional(Type.Integer({ minimum: 0, maximum: 99, description: 'Push login: the number picked among `numbers`' })),
    notme: Type.Optional(Type.Boolean({ description: 'Push login declined with "I did not try to log in": stops pushes to the user for a while and raises an audit event' })),
  },
  { additionalProperties: false },
);
export type AnswerRequest = Type.Static<typeof AnswerRequest>;

export const AnswerResponse = Type.Object({
  hsid: Hsid,
  state: SessionStateSchema,
  pingTime: Type.Integer({ description: 'Seconds between pings that keep a logged-in session alive; 0 = one-shot' }),
});
export type AnswerResponse = Type.Static<typeof AnswerResponse>;

export const Account = Type.Object({
  accountid: AccountId,
  userid: Type.Union([Type.String(), Type.Null()]),
  description: Type.String(),
  created: Type.Integer(),
  lastlogin: Type.Union([Type.Integer(), Type.Null()]),
  blocked: Type.Boolean(),
  headless: Type.Boolean({ description: 'No second factor' }),
  clientVersion: Type.String(),
});
export type Account = Type.Static<typeof Account>;

export const User = Type.Object({
  userid: Type.String(),
  created: Type.Integer(),
  attributes: Type.Record(Type.String(), Type.String()),
  accounts: Type.Integer({ description: 'Number of accounts assigned' }),
});
export type User = Type.Static<typeof User>;

export const Page = <T extends Type.TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), marker: Type.Union([Type.String(), Type.Null()], { description: 'Pass as ?marker= for the next page; null at the end' }) });

export const ServerSettings = Type.Object({
  sid: Sid,
  name: Type.String(),
  logo: Type.String(),
  serverpk: Type.String(),
  pingTime: Type.Integer(),
  pinTimeout: Type.Integer(),
  pinTransTimeout: Type.Integer(),
  serverFlags: Type.Array(Type.String()),
  returnUrls: Type.Array(Type.String(), { description: 'Where app-to-app logins may send the user back to (scheme://host[:port][/path] prefixes)' }),
  inactivityTimeout: Type.Integer({ description: 'Seconds: an in-app login kept alive by pings ends after this long without use of the app (0 = never)' }),
});
export type ServerSettings = Type.Static<typeof ServerSettings>;

export const ServerSettingsUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    logo: Type.Optional(Type.String({ maxLength: 2048 })),
    pingTime: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400, description: 'Seconds between phone pings; 0 = one-shot login' })),
    pinTimeout: Type.Optional(Type.Integer({ minimum: -1, maximum: 525_600, description: 'Minutes; -1 never ask the PIN, 0 always' })),
    pinTransTimeout: Type.Optional(Type.Integer({ minimum: -1, maximum: 525_600 })),
    serverFlags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Z0-9_]+$' }), { maxItems: 32 })),
    returnUrls: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), {
      maxItems: 32,
      description: 'App-to-app login: allowed return URLs, each scheme://host[:port][/path]; a return URL must have the same scheme, host and port and a path at or below one of them',
    })),
    inactivityTimeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400, description: 'Seconds; an in-app login ends after this long without use of the app (0 = never; default 300)' })),
  },
  { additionalProperties: false },
);
export type ServerSettingsUpdate = Type.Static<typeof ServerSettingsUpdate>;

/** Answer to a phone's ping or logout: where the session stands now. */
export const DeviceSessionState = Type.Object({ hsid: Hsid, state: SessionStateSchema, pingTime: Type.Integer() });
export type DeviceSessionState = Type.Static<typeof DeviceSessionState>;

export const OtpRequest = Type.Object(
  { otp: Type.String({ minLength: 1, maxLength: 64, description: 'The 12-character offline code as typed (spaces, hyphens, look-alikes allowed)' }) },
  { additionalProperties: false },
);
export type OtpRequest = Type.Static<typeof OtpRequest>;

// SERVER_FLAGS lives in server-flags.ts: a phone bundle needs it without pulling in the schema library.

/** A push login request waiting for this phone (ids only; the details come from fetching the session). */
export const PendingPush = Type.Object({
  pushid: B64('Push request id', 64),
  sid: Sid,
  hsid: Hsid,
  created: Type.Integer(),
  expires: Type.Integer(),
});
export type PendingPush = Type.Static<typeof PendingPush>;

/** What a business call that asks for a push answers. `number` is what the page shows (null without number matching). */
export const ProvokeResponse = Type.Object({
  hsid: Hsid,
  state: SessionStateSchema,
  accounts: Type.Integer({ description: 'How many accounts the push went to' }),
  number: Type.Union([Type.Integer(), Type.Null()]),
  expires: Type.Integer(),
});
export type ProvokeResponse = Type.Static<typeof ProvokeResponse>;

/** A security-relevant event the business API lists (`GET /audit`). */
export const AuditEvent = Type.Object({
  id: Type.String(),
  type: Type.Union([Type.Literal('push_declined_notme')], { description: 'push_declined_notme: a user said "I did not try to log in" to a push' }),
  at: Type.Integer({ description: 'Unix ms' }),
  userid: Type.Union([Type.String(), Type.Null()]),
  accountid: Type.Union([Type.String(), Type.Null()]),
  hsid: Type.Union([Type.String(), Type.Null()]),
  /** Until when pushes to the user are stopped (Unix ms), when the event stopped them. */
  blockedUntil: Type.Union([Type.Integer(), Type.Null()]),
});
export type AuditEvent = Type.Static<typeof AuditEvent>;

/** A Web Push subscription (the W3C PushSubscription JSON): where the push service takes pushes for this phone. */
export const PushSubscriptionBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://', description: 'The push service URL (https; http only when the server allows it)' }),
    keys: Type.Object(
      { p256dh: B64('The subscription public key (P-256, uncompressed)', 128), auth: B64('The 16-byte auth secret', 64) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type PushSubscriptionBody = Type.Static<typeof PushSubscriptionBody>;
