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
  fetchSession: (sid: string, hsid: string) => `/v1/device/${sid}/sessions/${hsid}/fetch`,
  answer: (sid: string, hsid: string) => `/v1/device/${sid}/sessions/${hsid}/answer`,
  /** Keeps a logged-in session alive when pingTime > 0 (signed request). */
  ping: (sid: string, hsid: string) => `/v1/device/${sid}/sessions/${hsid}/ping`,
  /** Ends a session this account logged in (signed request). */
  logout: (sid: string, hsid: string) => `/v1/device/${sid}/sessions/${hsid}/logout`,
  account: (sid: string) => `/v1/device/${sid}/account`,
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
