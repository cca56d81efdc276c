import type { Strings } from './strings.js';

/**
 * The block's shadow DOM, built once; views only toggle `hidden` and set text, so focus and screen-reader position
 * survive state changes. Only the constant strings go into markup; everything that comes from a server is set
 * with textContent or attributes later.
 */
const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function template(s: Strings, headingLevel: number): string {
  const h = `h${Math.min(6, Math.max(1, headingLevel))}`;
  const t = (key: keyof Strings) => escape(s[key]);
  return `<div part="container" class="box">
<${h} part="title" class="title" id="title">${t('title')}</${h}>
<p part="lead" class="lead" id="lead">${t('loading')}</p>
<div part="qr" class="qr" id="qr" hidden><span class="badge" id="badge" hidden>${t('scannedBadge')}</span></div>
<details part="link" class="linkbox" id="linkbox" hidden><summary>${t('cantScan')}</summary><p>${t('linkIntro')}</p><code part="login-link" class="url" id="login-link"></code></details>
<div id="app" hidden>
<a part="app-button button primary-button" class="btn primary" id="app-link">${t('openApp')}</a>
<button part="link-button" class="link" id="show-qr" type="button">${t('showQr')}</button>
</div>
<p part="number" class="number" id="number" hidden>${t('numberIntro')} <strong id="number-value"></strong></p>
<p part="status" class="status" id="status" role="status" aria-live="polite" tabindex="-1"><span class="spin" aria-hidden="true"></span>${t('loading')}</p>
<p part="notice" class="notice" id="notice" hidden></p>
<button part="button primary-button renew-button" class="btn primary" id="renew" type="button" hidden>${t('newCode')}</button>
<div part="alternatives" class="alt" id="alt" hidden>
<span class="or" aria-hidden="true">${t('or')}</span>
<div id="push" hidden>
<button part="button push-button" class="btn" id="push-one" type="button" hidden>${t('pushOne')}</button>
<button part="link-button" class="link" id="push-toggle" type="button" aria-expanded="false" aria-controls="push-form">${t('pushToggle')}</button>
<form part="push-form" id="push-form" hidden novalidate>
<label for="push-user">${t('pushUser')}</label>
<input part="push-input" id="push-user" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required aria-describedby="push-msg">
<button part="button" class="btn" type="submit">${t('pushSubmit')}</button>
</form>
<p class="msg" id="push-msg" aria-live="polite"></p>
</div>
<div id="otp" hidden>
<button part="link-button" class="link" id="otp-toggle" type="button" aria-expanded="false" aria-controls="otp-form">${t('otpToggle')}</button>
<form part="otp-form" id="otp-form" hidden novalidate>
<label for="otp-input">${t('otpLabel')}</label>
<input part="otp-input" id="otp-input" name="otp" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" maxlength="32" required aria-describedby="otp-hint otp-msg">
<p class="hint" id="otp-hint">${t('otpHint')}</p>
<button part="button" class="btn" type="submit">${t('otpSubmit')}</button>
<p class="msg" id="otp-msg" aria-live="polite"></p>
</form>
</div>
</div>
</div>`;
}
