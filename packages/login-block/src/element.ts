import { EndpointError, type Grant, callEndpoint, checkGrant, safeRedirect } from './endpoints.js';
import { type Progress, socketUrlFor } from './frames.js';
import { qrSvg } from './qr-svg.js';
import { STRINGS, type Strings } from './strings.js';
import { CSS } from './styles.js';
import { template } from './template.js';
import { ACTIVE, type LoginView, renderView } from './view.js';
import { SessionWatcher, type Transport } from './watcher.js';

export type { LoginView } from './view.js';

/** `detail` of the `tapin-login` event. Cancel the event (preventDefault) to stay on the page instead of redirecting. */
export interface TapinLoginDetail {
  hsid: string;
  /** Logged in with an offline code rather than by approving on the phone. */
  otp: boolean;
  /** Where the block is about to go: the complete endpoint's `redirect`, else the `redirect` attribute. */
  redirect: string | undefined;
  /** What the complete (or OTP) endpoint answered. */
  result: Record<string, unknown>;
}

const DEFAULT_MAX_RENEWALS = 10;

let sheet: CSSStyleSheet | undefined;

/**
 * `<tapin-login>`: the login block. See the package README for the attributes (the site's endpoint URLs), the
 * events, and the theming hooks.
 */
export class TapinLoginElement extends HTMLElement {
  /** Replace entries to translate or reword the block; set before it is connected. */
  strings: Strings = { ...STRINGS };

  readonly #root: ShadowRoot;
  #grant: Grant | undefined;
  #view: LoginView = 'loading';
  #message: string | undefined;
  #renewals = 0;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #expireTimer: ReturnType<typeof setTimeout> | undefined;
  #renewWhenVisible = false;
  #showQrOnPhone = false;
  #pushAvailable = false;
  #number: string | undefined;
  #transport: Transport = 'socket';
  #started = false;
  readonly #watcher = new SessionWatcher({
    progress: (hsid, progress, extra) => this.#onProgress(hsid, progress, extra),
    error: (hsid, code) => {
      // The server forgot the session (expired and purged): the same as expiry.
      if (code === 'session_not_found') this.#onProgress(hsid, 'expired');
    },
    transport: (transport) => {
      this.#transport = transport;
      this.#render();
    },
  });

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open', delegatesFocus: false });
  }

  /** The block's current view (also reflected as the `state` attribute, for host-page CSS). */
  get state(): LoginView {
    return this.#view;
  }

  /** The login URL the QR code carries, once there is one. */
  get loginUrl(): string | undefined {
    return this.#grant?.qrdata;
  }

  /** Starts over with a new code (what the "Get a new code" button does). */
  renew(): void {
    this.#renewals = 0;
    if (this.#attr('session-url')) void this.#newSession('user');
    else location.reload(); // Without a session endpoint only the page can make a new nonce.
  }

  connectedCallback(): void {
    if (!this.#root.firstChild) this.#build();
    document.addEventListener('visibilitychange', this.#onVisibility);
    if (this.#started) return;
    this.#started = true;
    if (this.#attr('push-url')) void this.#probePush();
    if (this.#attr('session-url')) {
      void this.#newSession('start');
    } else {
      // Server-rendered (getHtmlLogin): the session's public side comes in attributes.
      try {
        this.#useGrant(checkGrant({
          sid: this.#attr('sid'), hsid: this.#attr('hsid'), qrdata: this.#attr('qrdata'),
          expiresIn: Number(this.#attr('expires-in')), otp: this.hasAttribute('otp'), canprovoke: this.hasAttribute('canprovoke'),
        }), 'start');
      } catch {
        this.#fail(new EndpointError('config', 'The login block is missing its session-url attribute.', 0));
      }
    }
  }

  disconnectedCallback(): void {
    document.removeEventListener('visibilitychange', this.#onVisibility);
    this.#watcher.stop();
    this.#clearTimers();
    this.#started = false;
  }

  #attr(name: string): string | undefined {
    return this.getAttribute(name) ?? undefined;
  }

  #$<T extends HTMLElement = HTMLElement>(id: string): T {
    return this.#root.getElementById(id) as T;
  }

  #build(): void {
    // A constructed stylesheet is not subject to a page's CSP style-src; <style> is the fallback for old engines.
    if ('adoptedStyleSheets' in this.#root && typeof CSSStyleSheet !== 'undefined' && 'replaceSync' in CSSStyleSheet.prototype) {
      sheet ??= new CSSStyleSheet();
      if (!sheet.cssRules.length) sheet.replaceSync(CSS);
      this.#root.adoptedStyleSheets = [sheet];
      this.#root.innerHTML = template(this.strings, Number(this.#attr('heading-level') ?? 2));
    } else {
      this.#root.innerHTML = `<style>${CSS}</style>${template(this.strings, Number(this.#attr('heading-level') ?? 2))}`;
    }
    const heading = this.#attr('heading');
    if (heading) this.#$('title').textContent = heading;
    this.#$('renew').addEventListener('click', () => this.renew());
    this.#$('show-qr').addEventListener('click', () => {
      this.#showQrOnPhone = true;
      this.#render();
      this.#$('status').focus();
    });
    this.#$('otp-toggle').addEventListener('click', () => this.#toggle('otp'));
    this.#$('push-toggle').addEventListener('click', () => this.#toggle('push'));
    this.#$('otp-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#submitOtp();
    });
    this.#$('push-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#submitPush(this.#$<HTMLInputElement>('push-user').value.trim());
    });
    this.#$('push-one').addEventListener('click', () => void this.#submitPush(undefined));
    // Typing again clears the last complaint: a red field under a fresh entry says the wrong thing.
    for (const [input, msg] of [['otp-input', 'otp-msg'], ['push-user', 'push-msg']] as const) {
      this.#$(input).addEventListener('input', () => {
        this.#$(input).removeAttribute('aria-invalid');
        this.#say(msg, '');
      });
    }
  }

  #toggle(which: 'otp' | 'push'): void {
    const form = this.#$(`${which}-form`);
    const open = form.hidden;
    form.hidden = !open;
    this.#$(`${which}-toggle`).setAttribute('aria-expanded', String(open));
    if (open) this.#$(which === 'otp' ? 'otp-input' : 'push-user').focus();
  }

  // ---- the session ----

  async #newSession(reason: 'start' | 'renew' | 'user'): Promise<void> {
    const url = this.#attr('session-url');
    if (!url) return;
    if (reason === 'user') this.#setView('loading');
    try {
      this.#useGrant(checkGrant(await callEndpoint(url, 'POST', {})), reason);
    } catch (err) {
      this.#fail(err);
    }
  }

  #useGrant(grant: Grant, reason: 'start' | 'renew' | 'user'): void {
    this.#clearTimers();
    this.#grant = grant;
    this.#number = undefined;
    const qr = this.#$('qr');
    qr.querySelector('svg')?.remove();
    qr.prepend(qrSvg(grant.qrdata, this.strings.qrLabel));
    qr.dataset['loginUrl'] = grant.qrdata;
    this.#$('login-link').textContent = grant.qrdata;
    const back = safeRedirect(this.#attr('return-url') ?? location.href);
    this.#$<HTMLAnchorElement>('app-link').href = back ? `${grant.qrdata}?return=${encodeURIComponent(back)}` : grant.qrdata;
    const otpInput = this.#$<HTMLInputElement>('otp-input');
    otpInput.value = '';
    otpInput.removeAttribute('aria-invalid');
    this.#say('otp-msg', '');
    this.#say('push-msg', '');
    this.#setView('waiting', reason === 'renew' ? `${this.strings.renewed} ${this.strings.waiting}` : undefined);
    this.#watcher.watch({
      sid: grant.sid,
      hsid: grant.hsid,
      socketUrl: this.#attr('socket-url') ?? grant.socketUrl ?? socketUrlFor(grant.qrdata),
      statusUrl: this.#attr('status-url'),
    });
    // Renew a little before the end, so a person about to scan never meets a dead code.
    const margin = Math.min(30_000, Math.max(2_000, grant.expiresIn * 0.2));
    if (this.#attr('session-url')) this.#renewTimer = setTimeout(() => this.#renewDue(), Math.max(0, grant.expiresIn - margin));
    this.#expireTimer = setTimeout(() => {
      if (ACTIVE.includes(this.#view)) this.#setView('expired');
    }, grant.expiresIn + 1_000);
    if (reason === 'user') this.#$('status').focus();
  }

  #canRenewByItself(): boolean {
    const max = Number(this.#attr('max-renewals') ?? DEFAULT_MAX_RENEWALS);
    // An offline code is bound to the session it was made for: never swap the session under someone typing one.
    const typingCode = !this.#$('otp-form').hidden;
    return !!this.#attr('session-url') && !document.hidden && !typingCode && this.#renewals < max;
  }

  #renewDue(): void {
    if (this.#view !== 'waiting') return;
    if (!this.#canRenewByItself()) {
      // A background tab does not mint sessions nobody looks at; it gets a fresh one when it is shown again.
      if (document.hidden) this.#renewWhenVisible = true;
      return;
    }
    this.#renewals++;
    void this.#newSession('renew');
  }

  readonly #onVisibility = (): void => {
    if (document.hidden || !this.#renewWhenVisible) return;
    this.#renewWhenVisible = false;
    if (this.#view === 'waiting' || this.#view === 'expired') void this.#newSession('renew');
  };

  #onProgress(hsid: string, progress: Progress, extra?: string): void {
    if (hsid !== this.#grant?.hsid || this.#view === 'completing' || this.#view === 'loggedin') return;
    switch (progress) {
      case 'waiting':
        if (this.#view === 'loading') this.#setView('waiting');
        return;
      case 'scanned':
      case 'provoked':
        if (progress === 'provoked' && extra && /^\d{1,4}$/.test(extra)) this.#number = extra;
        if (ACTIVE.includes(this.#view)) this.#setView(progress);
        return;
      case 'loggedin':
        void this.#complete();
        return;
      case 'cancelled':
        this.#setView('declined');
        return;
      case 'expired':
        if (this.#view === 'waiting' && this.#canRenewByItself()) {
          this.#renewals++;
          void this.#newSession('renew');
        } else if (ACTIVE.includes(this.#view)) {
          this.#setView('expired');
        }
        return;
      case 'loggedout':
        this.#setView('expired', this.strings.ended);
        return;
      case 'canprovoke':
        if (this.#grant) this.#grant.canprovoke = true;
        this.#render();
        return;
      case 'noaccounts':
        this.#say('push-msg', this.strings.noAccounts, true);
        if (this.#view === 'provoked') this.#setView('waiting');
        return;
    }
  }

  /** The phone approved: the site's complete endpoint reads who logged in (with the nonce) and starts its session. */
  async #complete(): Promise<void> {
    const grant = this.#grant;
    if (!grant) return;
    this.#setView('completing');
    const url = this.#attr('complete-url');
    try {
      const result = url ? await callEndpoint<Record<string, unknown>>(url, 'POST', { hsid: grant.hsid }) : {};
      this.#finish(grant.hsid, result ?? {}, false);
    } catch (err) {
      this.#fail(err);
    }
  }

  #finish(hsid: string, result: Record<string, unknown>, otp: boolean): void {
    this.#watcher.stop();
    this.#clearTimers();
    this.#setView('loggedin');
    const redirect = safeRedirect(result['redirect']) ?? safeRedirect(this.#attr('redirect'));
    const detail: TapinLoginDetail = { hsid, otp, redirect, result };
    const proceed = this.dispatchEvent(new CustomEvent('tapin-login', { detail, bubbles: true, composed: true, cancelable: true }));
    if (proceed && redirect) location.assign(redirect);
  }

  async #submitOtp(): Promise<void> {
    const grant = this.#grant;
    const url = this.#attr('otp-url');
    const input = this.#$<HTMLInputElement>('otp-input');
    const otp = input.value.trim();
    if (!grant || !url) return;
    if (!otp) {
      input.setAttribute('aria-invalid', 'true');
      this.#say('otp-msg', this.strings.otpHint, true);
      input.focus();
      return;
    }
    const button = this.#$('otp-form').querySelector('button') as HTMLButtonElement;
    button.disabled = true;
    try {
      const result = await callEndpoint<Record<string, unknown>>(url, 'POST', { hsid: grant.hsid, otp });
      this.#finish(grant.hsid, result ?? {}, true);
    } catch (err) {
      const code = err instanceof EndpointError ? err.code : '';
      const s = this.strings;
      const text = code === 'otp_invalid' ? s.otpInvalid : code === 'otp_locked' ? s.otpLocked : code === 'otp_disabled' ? s.otpDisabled
        : code === 'session_changed' ? s.otpStale : err instanceof EndpointError && err.status >= 400 && err.status < 500 ? err.message : s.failed;
      input.setAttribute('aria-invalid', 'true');
      this.#say('otp-msg', text, true);
      input.focus();
      input.select();
    } finally {
      button.disabled = false;
    }
  }

  async #probePush(): Promise<void> {
    try {
      const answer = await callEndpoint<{ available?: unknown }>(this.#attr('push-url')!, 'GET');
      this.#pushAvailable = answer?.available === true;
    } catch {
      this.#pushAvailable = false; // No push here (yet): the option simply does not appear.
    }
    this.#render();
  }

  async #submitPush(username: string | undefined): Promise<void> {
    const grant = this.#grant;
    const url = this.#attr('push-url');
    if (!grant || !url) return;
    if (username === '') {
      this.#$('push-user').setAttribute('aria-invalid', 'true');
      this.#say('push-msg', this.strings.pushUser, true);
      return;
    }
    this.#$('push-user').removeAttribute('aria-invalid');
    try {
      const answer = await callEndpoint<{ number?: unknown }>(url, 'POST', username === undefined ? { hsid: grant.hsid } : { hsid: grant.hsid, username });
      this.#number = typeof answer?.number === 'number' || typeof answer?.number === 'string' ? String(answer.number) : undefined;
      this.#setView('provoked');
    } catch (err) {
      this.#say('push-msg', err instanceof EndpointError && err.status >= 400 && err.status < 500 ? err.message : this.strings.failed, true);
    }
  }

  #fail(err: unknown): void {
    this.#watcher.stop();
    this.#clearTimers();
    // A site's own 4xx message is meant for people (e.g. "this phone is not linked to an account here").
    const message = err instanceof EndpointError && err.status >= 400 && err.status < 500 ? err.message
      : err instanceof EndpointError && err.code === 'config' ? err.message : this.strings.failed;
    this.#setView('error', message);
  }

  #clearTimers(): void {
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#expireTimer);
  }

  // ---- rendering ----

  #setView(view: LoginView, message?: string): void {
    const changed = view !== this.#view;
    this.#view = view;
    this.#message = message;
    this.#render();
    if (changed) this.dispatchEvent(new CustomEvent('tapin-state', { detail: { state: view, hsid: this.#grant?.hsid }, bubbles: true, composed: true }));
  }

  #say(id: string, text: string, bad = false): void {
    const el = this.#$(id);
    el.textContent = text;
    el.classList.toggle('bad', bad);
  }

  #render(): void {
    if (!this.#root.firstChild) return;
    this.setAttribute('state', this.#view);
    renderView(this.#root, this.strings, {
      view: this.#view, message: this.#message, grant: this.#grant, mode: this.#attr('mode'), otpUrl: this.#attr('otp-url'),
      showQrOnPhone: this.#showQrOnPhone, pushAvailable: this.#pushAvailable, number: this.#number, transport: this.#transport,
    });
  }
}
