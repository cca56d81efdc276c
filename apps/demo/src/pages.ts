import { type Html, html } from './html.js';
import type { LoggedInUser } from './visitors.js';

export const SITE = 'Tapin demo';

function layout(title: string, user: LoggedInUser | undefined, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} — ${SITE}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/demo.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<a class="brand" href="/"><span aria-hidden="true">◆</span> ${SITE}</a>
<nav aria-label="Account">${user
    ? html`<span>Logged in as <strong>${user.userid}</strong></span> <a href="/account">Your account</a>`
    : html`<a href="/signup">Sign up</a> <a href="/login">Log in</a>`}</nav>
</header>
<main id="main">
${body}
</main>
<footer class="foot">An example website that logs people in with Tapin: no passwords, you approve on your phone.</footer>
</body>
</html>`;
}

export function homePage(user: LoggedInUser | undefined): Html {
  return layout('Welcome', user, html`<h1>Log in by approving on your phone</h1>
<p class="lead">This little site has no passwords. You sign up by adding your phone, and log in by scanning a code
(or getting a request on your phone, or typing an offline code).</p>
${user
    ? html`<p><a class="button" href="/account">Go to your account</a></p>`
    : html`<p class="actions"><a class="button" href="/signup">Sign up</a> <a class="button secondary" href="/login">Log in</a></p>`}`);
}

export function signupPage(options: { csrf: string; userid?: string; error?: string }): Html {
  return layout('Sign up', undefined, html`<h1>Sign up</h1>
<p class="lead">Choose a username. Next, you add your phone by scanning a code — that is all.</p>
<form class="card" method="post" action="/signup" novalidate>
<input type="hidden" name="csrf" value="${options.csrf}">
<label for="userid">Username</label>
<input id="userid" name="userid" value="${options.userid ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false"
 required minlength="3" maxlength="32" pattern="[a-z0-9][a-z0-9._\\-]{2,31}" aria-describedby="userid-hint${options.error ? ' userid-error' : ''}"${options.error ? html` aria-invalid="true" autofocus` : ''}>
<p class="hint" id="userid-hint">3–32 characters: lower-case letters, digits, dots, hyphens and underscores.</p>
${options.error ? html`<p class="error" id="userid-error" role="alert">${options.error}</p>` : ''}
<button class="button" type="submit">Continue</button>
</form>
<p>Already signed up? <a href="/login">Log in</a>.</p>`);
}

export function enrolPage(options: { userid: string; enrolUrl: string; qrDataUrl: string; expires: number }): Html {
  const minutes = Math.max(1, Math.round((options.expires - Date.now()) / 60_000));
  return layout('Add your phone', undefined, html`<h1>Add your phone, ${options.userid}</h1>
<div class="split">
<div class="card center">
<img class="qr" src="${options.qrDataUrl}" width="240" height="240" alt="Enrol QR code: scan it with the Tapin app to add your phone to the account ${options.userid}.">
<p id="enrol-status" class="status" role="status" aria-live="polite" data-userid="${options.userid}">Waiting for your phone…</p>
<p id="enrol-done" hidden><a class="button" href="/login?enrolled=1">Log in now</a></p>
</div>
<div>
<ol class="steps">
<li>Open the Tapin app on your phone and scan this code (it works once, for ${minutes} minutes).</li>
<li>Choose a PIN on your phone. It never leaves the phone.</li>
<li>This page notices by itself when your phone is added.</li>
</ol>
<details class="cli">
<summary>No Tapin app? Use the command-line phone</summary>
<p>The installable authenticator app is not built yet; <code>tapin-device</code> is a complete authenticator for the terminal:</p>
<pre><code id="enrol-command">npx tapin-device --home ./phone enrol '${options.enrolUrl}' --pin 1234</code></pre>
<p>The enrol link: <a id="enrol-url" href="${options.enrolUrl}">${options.enrolUrl}</a></p>
</details>
</div>
</div>
<noscript><p>Once your phone is added, <a href="/login?enrolled=1">log in</a>.</p></noscript>
<script type="module" src="/assets/enrol.js"></script>`);
}

const NOTICES: Record<string, string> = {
  loggedout: 'You are logged out. Your phone shows the session as ended.',
  enrolled: 'Your phone is added. Log in with it now.',
  ended: 'Your session has ended (it was logged out at Tapin or from your phone). Log in again.',
};

export function loginPage(options: { notice?: string | undefined; maxRenewals?: number | undefined }): Html {
  const notice = options.notice ? NOTICES[options.notice] : undefined;
  return layout('Log in', undefined, html`<h1>Log in</h1>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
<div class="split">
<tapin-login
  session-url="/auth/tapin/session"
  status-url="/auth/tapin/status"
  complete-url="/auth/tapin/complete"
  otp-url="/auth/tapin/otp"
  push-url="/auth/tapin/push"
  redirect="/account"${options.maxRenewals !== undefined ? html` max-renewals="${options.maxRenewals}"` : ''}>
</tapin-login>
<div class="aside">
<h2>New here?</h2>
<p><a href="/signup">Sign up</a> — choose a username and add your phone. No password, ever.</p>
<details class="cli">
<summary>Logging in with the command-line phone</summary>
<p>Under the code, “Can’t scan the code?” shows the login link. Then:</p>
<pre><code>npx tapin-device --home ./phone login '&lt;login link&gt;' --pin 1234</code></pre>
<p>Or type your username under “Send a request to my phone” and answer it with</p>
<pre><code>npx tapin-device --home ./phone listen --approve --once --pin 1234 --number &lt;number shown&gt;</code></pre>
</details>
</div>
</div>
<script type="module" src="/assets/tapin-login.js"></script>`);
}

export interface AccountFacts {
  user: LoggedInUser;
  csrf: string;
  state: string;
  device: string | undefined;
  enrolled: number | undefined;
  pingTime: number;
}

const time = (ms: number | undefined) => (ms === undefined ? '—' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));

export function accountPage(f: AccountFacts): Html {
  const u = f.user;
  return layout('Your account', u, html`<h1>Hello, ${u.userid}</h1>
<p class="lead">You logged in with Tapin ${u.otplogin ? 'using an offline code from your phone' : 'by approving on your phone'}.</p>
<div class="cards">
<section class="card" aria-labelledby="who">
<h2 id="who">Who is logged in</h2>
<dl id="who-facts">
<dt>User id</dt><dd id="userid">${u.userid}</dd>
<dt>Account id</dt><dd id="accountid"><code>${u.accountid}</code></dd>
<dt>Device</dt><dd>${f.device ?? '—'}${f.enrolled ? html` <span class="muted">(added ${time(f.enrolled)})</span>` : ''}</dd>
<dt>Offline-code (OTP) login</dt><dd id="otplogin">${u.otplogin ? 'yes' : 'no'}</dd>
</dl>
</section>
<section class="card" aria-labelledby="session">
<h2 id="session">This session</h2>
<dl id="session-facts">
<dt>Session handle (hsid)</dt><dd id="hsid"><code>${u.hsid}</code></dd>
<dt>State at Tapin</dt><dd id="state">${f.state}</dd>
<dt>Logged in at</dt><dd>${time(u.at)}</dd>
<dt>From</dt><dd>${u.ip}</dd>
<dt>Browser</dt><dd class="ua">${u.useragent || '—'}</dd>
<dt>Kept alive by the phone</dt><dd>${f.pingTime > 0 ? `yes, a ping every ${f.pingTime} s` : 'no (one-shot login)'}</dd>
</dl>
</section>
</div>
<form method="post" action="/logout">
<input type="hidden" name="csrf" value="${f.csrf}">
<button class="button" type="submit">Log out</button>
</form>
<p class="hint">Logging out ends the session at Tapin too: your phone is told, and its history shows the session as logged out.</p>`);
}

export function errorPage(status: number, message: string): Html {
  return layout('Error', undefined, html`<h1>${status === 404 ? 'Not found' : 'Something went wrong'}</h1><p>${message}</p><p><a href="/">Home</a></p>`);
}
