/**
 * Paths and headers of the device API (phone → server). Kept here so the SDK and the server agree on them.
 * Every request except enrolment carries a signed `tapin/request/1` statement in these headers; the answer to a
 * login is authenticated by the login statement itself, whose one-time challenge already makes it unreplayable.
 */
export const DEVICE_HEADERS = {
  account: 'tapin-account',
  time: 'tapin-time',
  reqid: 'tapin-request-id',
  signature: 'tapin-signature',
} as const;

/** How far a signed request's time may be from the server's clock. */
export const REQUEST_WINDOW_MS = 120_000;

export const devicePaths = {
  enrolInfo: (sid: string, token: string) => `/v1/device/${sid}/enrol/${token}`,
  enrol: (sid: string) => `/v1/device/${sid}/enrol`,
  /** With `returnUrl` (app-to-app login) the server checks it against the allowed return URLs first. */
  fetchSession: (sid: string, hsid: string, returnUrl?: string) =>
    `/v1/device/${sid}/sessions/${hsid}/fetch${returnUrl === undefined ? '' : `?return=${encodeURIComponent(returnUrl)}`}`,
  answer: (sid: string, hsid: string) => `/v1/device/${sid}/sessions/${hsid}/answer`,
  /**
   * Keeps a logged-in session alive when pingTime > 0 (signed request). An in-app login adds `idle`, the seconds
   * since the user last used the app: at or past the server's inactivityTimeout the session ends.
   */
  ping: (sid: string, hsid: string, idleSeconds?: number) =>
    `/v1/device/${sid}/sessions/${hsid}/ping${idleSeconds === undefined ? '' : `?idle=${Math.max(0, Math.floor(idleSeconds))}`}`,
  /** GET: where a session this account logged in stands, without keeping it alive (signed request). */
  sessionState: (sid: string, hsid: string) => `/v1/device/${sid}/sessions/${hsid}`,
  /** Ends a session this account logged in (signed request). */
  logout: (sid: string, hsid: string) => `/v1/device/${sid}/sessions/${hsid}/logout`,
  /** GET: the calling account's state; DELETE: the phone removes its own account (signed requests). */
  account: (sid: string) => `/v1/device/${sid}/account`,
  /** In-app login (signed request): a fresh session for the calling account; answer it like any other. */
  appLogin: (sid: string) => `/v1/device/${sid}/app-login`,
  /** Change the PIN (signed request, body PinChangeRequest). */
  pin: (sid: string) => `/v1/device/${sid}/pin`,
  /** Pending push login requests for the calling account (signed request). */
  pushes: (sid: string) => `/v1/device/${sid}/pushes`,
  /**
   * The device WebSocket (push delivery while the app is open). The first text frame is the signed request
   * `{account, time, reqid, signature}` over `GET` and this path with an empty body; then the server sends
   * `{"type":"push","pushid","sid","hsid"}` for each pending push (ids only).
   */
  socket: (sid: string) => `/v1/device/${sid}/ws`,
  /** GET: the server's VAPID public key (applicationServerKey); POST (signed): register a Web Push subscription. */
  vapid: (sid: string) => `/v1/device/${sid}/push/vapid`,
  pushSubscription: (sid: string) => `/v1/device/${sid}/push/subscription`,
} as const;
