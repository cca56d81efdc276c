#!/usr/bin/env node
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { OTP_INTERVAL_SECONDS, TapinError, type SessionInfo } from '@tapin/protocol';
import { TapinDevice } from '../device.js';
import { TapinSDK } from '../lifecycle/sdk.js';
import { TapinSession } from '../lifecycle/session.js';
import { PIN_RE } from '../enrol.js';
import { FileStore } from '../node/file-store.js';
import { NumberPrompt } from './number-prompt.js';

/**
 * tapin-device: a command-line phone for scripts, tests and people without a smartphone at hand.
 * Every command prints one JSON object with --json; errors then go to stderr as `{error: {code, message}}`.
 */
interface Global {
  home: string;
  json: boolean;
}

const program = new Command('tapin-device')
  .description('A command-line Tapin authenticator: enrol, approve logins, list accounts.')
  .option('--home <dir>', 'where accounts and keys live (mode 0700; default: $TAPIN_DEVICE_HOME or ~/.tapin-device)', process.env['TAPIN_DEVICE_HOME'] ?? join(homedir(), '.tapin-device'))
  .option('--json', 'machine-readable output', false)
  .showHelpAfterError();

const globals = (): Global => program.opts<Global>();
const device = () => {
  const store = new FileStore(globals().home);
  return new TapinDevice({ storage: store, keys: store });
};
const out = (json: unknown, text: string) => process.stdout.write(globals().json ? `${JSON.stringify(json)}\n` : `${text}\n`);

function pinOption(pin: string | undefined): string | undefined {
  if (pin !== undefined && !PIN_RE.test(pin)) throw new TapinError('bad_request', 'A PIN is 4 to 12 digits.');
  return pin;
}

function describeInfo(info: SessionInfo | null): string {
  if (!info) return '  (the site sent no details)';
  const lines = Object.entries(info.info ?? {}).map(([k, v]) => `  ${k}: ${v}`);
  if (info.ip) lines.push(`  IP: ${info.ip}`);
  if (info.useragent) lines.push(`  browser: ${info.useragent}`);
  return lines.join('\n') || '  (the site sent no details)';
}

program
  .command('enrol')
  .description('Enrol this phone with an enrol link (from a QR code)')
  .argument('<enrol-url>', 'the enrol link, https://…/e/<sid>/<token>')
  .option('--pin <pin>', 'set a PIN (4–12 digits) as second factor; without it the account has none')
  .option('--name <name>', 'a name for this device, shown to the site')
  .action(async (url: string, opts: { pin?: string; name?: string }) => {
    const account = await device().enrol(url, { pin: pinOption(opts.pin), description: opts.name });
    out(
      { accountid: account.accountid, sid: account.sid, server: account.server.name, userid: account.userid, headless: account.pinSalt === null },
      `Enrolled at "${account.server.name}" (${account.base})\n  account: ${account.accountid}${account.userid ? `\n  user:    ${account.userid}` : ''}\n  PIN:     ${account.pinSalt ? 'set' : 'none (headless)'}`,
    );
  });

program
  .command('login')
  .description('Scan a login link and approve it (or decline with --decline); stays to keep the session alive when the server asks for pings')
  .argument('<login-url>', 'the login link, https://…/q/<sid>/<hsid>')
  .option('--pin <pin>', 'the PIN, when the server asks for it')
  .option('--decline', 'decline instead of approving', false)
  .option('--account <accountid>', 'which account, when this phone has several at that server')
  .option('--once', 'exit after approving even when the server wants pings (the login then ends after 2 × pingTime)', false)
  .action(async (url: string, opts: { pin?: string; decline: boolean; account?: string; once: boolean }) => {
    const pin = pinOption(opts.pin);
    const outcome = await runLogin(url, { ...opts, pin });
    out(outcome.json, outcome.text);
    if (outcome.keepAlive) await outcome.keepAlive();
  });

/**
 * Drives one login through the SDK's lifecycle, answering its callbacks the way a person at a terminal would
 * (with the flags given). Resolves when the session is answered; `keepAlive` then waits while it stays active.
 */
function runLogin(url: string, opts: { pin?: string | undefined; decline: boolean; account?: string | undefined; once: boolean }) {
  const store = new FileStore(globals().home);
  return new Promise<{ json: unknown; text: string; keepAlive?: () => Promise<void> }>((resolve, reject) => {
    let session: TapinSession | undefined;
    let settled = false;
    const finish = (err?: TapinError) => {
      if (settled) return;
      settled = true;
      if (err) {
        sdk.dispose();
        return reject(err);
      }
      const s = session!;
      const json = { hsid: s.hsid, state: s.state === 'ACTIVE' ? 'loggedin' : opts.decline ? 'cancelled' : 'loggedin', lifecycle: s.state, accountid: s.account?.accountid, announceinfo: s.announceinfo, pingTime: s.pingTime };
      const text = opts.decline ? 'Declined.' : s.state === 'ACTIVE' && !opts.once ? `Approved: you are logged in. Keeping the session alive (ping every ${s.pingTime} s); Ctrl-C logs out.` : 'Approved: you are logged in.';
      if (s.state !== 'ACTIVE' || opts.once) {
        sdk.dispose();
        return resolve({ json, text });
      }
      // The Ctrl-C handler is in place before anything is printed, so a script that reacts to the output
      // cannot interrupt the phone before it knows how to log out.
      const kept = new Promise<void>((done) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            void sdk.logout(s).catch(() => undefined).finally(() => {
              sdk.dispose();
              done();
            });
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          ended = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            if (!globals().json) process.stdout.write('The session has ended.\n');
            sdk.dispose();
            done();
          };
        });
      resolve({ json, text, keepAlive: () => kept });
    };
    let ended: (() => void) | undefined;
    const sdk = new TapinSDK({
      storage: store, keys: store,
      backoff: { maxAttempts: 3, baseMs: 500 },
      callbacks: {
        ConfirmLogin(s, request) {
          if (!globals().json) process.stdout.write(`Login request from "${s.account?.server.name}":\n${describeInfo(request.announceinfo)}\n`);
          if (opts.decline) return void s.decline();
          if (request.pinRequired && opts.pin === undefined) return finish(new TapinError('pin_required', 'This login needs your PIN: run again with --pin <PIN>.'));
          void s.approve({ ...(opts.account ? { accountid: opts.account } : {}), ...(opts.pin !== undefined ? { pin: opts.pin } : {}) });
        },
        SecondFactor(_s, request) {
          if (request.result === 'PIN_FAIL') {
            const e = new TapinError(request.attemptsLeft === 0 ? 'account_blocked' : 'pin_wrong', request.attemptsLeft === 0 ? 'Wrong PIN 5 times in a row: the account is blocked.' : undefined, { attemptsLeft: request.attemptsLeft ?? 0 });
            finish(e);
          } else if (request.result === undefined) {
            finish(new TapinError('pin_required', 'This login needs your PIN: run again with --pin <PIN>.'));
          }
        },
        SessionUpdate(s) {
          if (s.state === 'ACTIVE' || (s.state === 'DONE' && !settled)) finish();
        },
        SessionStop(s) {
          if (s.state === 'ERROR') finish(s.error ?? new TapinError('server_error'));
          else if (settled) ended?.();
          else finish();
        },
      },
    });
    sdk.processQR(url).then((s) => {
      session = s;
      if (s.kind !== 'login') finish(new TapinError('qr_unknown_type', 'This is an enrol link, not a login link.'));
    }, (err: unknown) => finish(err instanceof TapinError ? err : new TapinError('qr_parse_error')));
  });
}

program
  .command('listen')
  .description('Wait for push logins (polls the server for pending pushes) and answer them with --approve or --decline; without either, print them')
  .option('--approve', 'approve each push', false)
  .option('--decline', 'decline each push', false)
  .option('--not-me', 'decline saying "I did not try to log in": stops pushes to you for a while and alerts the site', false)
  .option('--pin <pin>', 'the PIN, when the server asks for it')
  .option('--number <n>', 'number matching: the number the login page shows (without it: asked at a terminal, else one number per push read from stdin)')
  .option('--interval <seconds>', 'seconds between polls', '2')
  .option('--once', 'exit after the first push is answered (or printed)', false)
  .action(async (opts: { approve: boolean; decline: boolean; notMe: boolean; pin?: string; number?: string; interval: string; once: boolean }) => {
    if (opts.notMe) opts.decline = true;
    if (opts.approve && opts.decline) throw new TapinError('bad_request', 'Give --approve or --decline, not both.');
    const pin = pinOption(opts.pin);
    const number = opts.number === undefined ? undefined : Number(opts.number);
    if (number !== undefined && !(Number.isInteger(number) && number >= 0 && number <= 99)) throw new TapinError('bad_request', '--number is the 2-digit number the login page shows.');
    const interval = Math.max(0.2, Number(opts.interval) || 2) * 1000;
    await listen({ approve: opts.approve, decline: opts.decline, notMe: opts.notMe, pin, number, interval, once: opts.once });
  });

/** Polls for push logins and answers each through the SDK's lifecycle; one output line per push. */
async function listen(opts: { approve: boolean; decline: boolean; notMe: boolean; pin: string | undefined; number: number | undefined; interval: number; once: boolean }): Promise<void> {
  const store = new FileStore(globals().home);
  let done!: () => void;
  let failed!: (e: TapinError) => void;
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    failed = (e) => {
      stopping = true;
      reject(e);
    };
  });
  let stopping = false;
  const report = (s: TapinSession, numbers: number[] | undefined) => {
    const state = s.state === 'ERROR' ? 'error' : s.state === 'ACTIVE' ? 'loggedin' : opts.decline ? 'cancelled' : opts.approve ? 'loggedin' : 'pending';
    out(
      { hsid: s.hsid, accountid: s.account?.accountid, state, lifecycle: s.state, announceinfo: s.announceinfo, numbers: numbers ?? null, ...(s.error ? { error: { code: s.error.code, message: s.error.message } } : {}) },
      `${s.state === 'ERROR' ? `Push login ${s.hsid} failed: ${s.error?.message ?? ''}` : state === 'pending' ? `Push login ${s.hsid} waiting (answer with --approve/--decline)` : `Push login ${s.hsid}: ${state}`}`,
    );
    if (opts.once) {
      stopping = true;
      if (s.error) failed(s.error);
      else done();
    }
  };
  const numbersOf = new Map<string, number[] | undefined>();
  const prompt = new NumberPrompt(process.stdin, process.stderr);
  const sdk: TapinSDK = new TapinSDK({
    storage: store, keys: store,
    backoff: { maxAttempts: 3, baseMs: 500 },
    callbacks: {
      ConfirmLogin(s, request) {
        numbersOf.set(s.id, request.numbers);
        if (!globals().json) process.stdout.write(`Push login from "${s.account?.server.name}":\n${describeInfo(request.announceinfo)}\n${request.numbers ? `  numbers: ${request.numbers.join('  ')}\n` : ''}`);
        if (opts.decline) return void s.decline({ notMe: opts.notMe });
        if (!opts.approve) {
          report(s, request.numbers);
          return void s.cancel();
        }
        if (request.pinRequired && opts.pin === undefined) return failed(new TapinError('pin_required', 'This login needs your PIN: run again with --pin <PIN>.'));
        const numbers = request.numbers;
        const picked = numbers && opts.number === undefined ? prompt.pick(numbers) : Promise.resolve(opts.number);
        picked.then((number) => {
          if (numbers && number === undefined) {
            return failed(new TapinError('bad_request', `Number matching: pick the number the login page shows (one of ${numbers.join(', ')}) with --number, at a terminal, or on stdin.`));
          }
          return s.approve({ ...(opts.pin !== undefined ? { pin: opts.pin } : {}), ...(number !== undefined ? { number } : {}) });
        }).catch((err: unknown) => failed(err instanceof TapinError ? err : new TapinError('internal')));
      },
      SecondFactor(_s, request) {
        if (request.result === 'PIN_FAIL' || request.result === undefined) failed(new TapinError(request.attemptsLeft === 0 ? 'account_blocked' : request.result ? 'pin_wrong' : 'pin_required', undefined, { attemptsLeft: request.attemptsLeft ?? 0 }));
      },
      SessionUpdate(s) {
        if (s.state === 'ACTIVE') report(s, numbersOf.get(s.id));
      },
      UserErrorMessage(s, error) {
        // A pull the server refuses (account blocked or gone) will not get better by polling; network trouble may.
        if (s === undefined && !['connection_error', 'server_timeout', 'unavailable'].includes(error.code)) failed(new TapinError(error.code, error.message));
      },
      SessionStop(s) {
        if (s.state === 'ERROR' || (s.state === 'DONE' && (opts.approve || opts.decline) && !s.error)) {
          if (!(s.state === 'DONE' && s.pingTime > 0 && opts.approve)) report(s, numbersOf.get(s.id));
        }
      },
    },
  });
  const stop = () => {
    stopping = true;
    done();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const poll = async (): Promise<void> => {
      while (!stopping) {
        await sdk.pull();
        await Promise.race([finished.catch(() => undefined), new Promise((r) => setTimeout(r, opts.interval))]);
      }
    };
    await Promise.all([poll(), finished]);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    stopping = true;
    prompt.close();
    sdk.dispose();
  }
}

program
  .command('otp')
  .description('Show the offline code for a login link (works without any network)')
  .argument('<login-url>', 'the login link, https://…/q/<sid>/<hsid>')
  .option('--account <accountid>', 'which account, when this phone has several at that server')
  .action(async (url: string, opts: { account?: string }) => {
    const store = new FileStore(globals().home);
    // No network at all: the session is built from the link and local accounts only.
    const sdk = new TapinSDK({ storage: store, keys: store, fetch: () => Promise.reject(new Error('offline')) });
    const link = await sdk.resolveQR(url);
    if (link.type !== 'login') throw new TapinError('qr_unknown_type', 'This is an enrol link, not a login link.');
    const candidates = (await store.list()).filter((a) => a.sid === link.sid && a.base === link.base);
    const account = opts.account ? candidates.find((a) => a.accountid === opts.account) : candidates[0];
    if (!account) throw new TapinError('no_accounts');
    const session = new TapinSession(link, sdk);
    session.accounts = candidates;
    const otp = await sdk.generateOTP(session, account);
    out({ otp, hsid: link.hsid, accountid: account.accountid, validSeconds: OTP_INTERVAL_SECONDS * 2 }, `Offline code: ${otp}\n(type it on the login page; it is valid for 2 to 4 minutes)`);
  });

program
  .command('sessions')
  .description('Sessions this phone took part in (newest first), with their sessioninfo; logged-in ones are checked with the server first')
  .option('--local', 'do not ask the server which logged-in sessions have ended since (works offline)', false)
  .action(async (opts: { local: boolean }) => {
    const store = new FileStore(globals().home);
    const sdk = new TapinSDK({ storage: store, keys: store });
    // A session can end while this command is not running (the site logged out, or pings stopped): ask, so the
    // list says LOGGED_OUT rather than a stale LOGGED_IN. Unreachable servers leave their items as they were.
    const items = opts.local ? await sdk.history() : await sdk.refreshSessions();
    out(items, items.length
      ? items.map((h) => `${h.hsid}  ${h.status.padEnd(18)}  ${h.serverName}  ${new Date(h.started).toISOString()}${h.otp ? '  (offline code)' : ''}${h.sessioninfo?.info ? `  ${JSON.stringify(h.sessioninfo.info)}` : ''}`).join('\n')
      : 'No sessions yet.');
  });

program
  .command('logout')
  .description('Log out a session this phone logged in')
  .argument('<hsid>', 'the session handle (see `sessions`)')
  // A handle is base64url and may begin with '-': it is the argument, not an unknown option.
  .allowUnknownOption()
  .action(async (hsid: string) => {
    const store = new FileStore(globals().home);
    await new TapinSDK({ storage: store, keys: store }).logout(hsid);
    out({ hsid, state: 'loggedout' }, 'Logged out.');
  });

program
  .command('accounts')
  .description('List the accounts on this phone')
  .action(async () => {
    const accounts = await device().accounts();
    const list = accounts.map((a) => ({
      accountid: a.accountid, sid: a.sid, server: a.server.name, base: a.base, userid: a.userid, description: a.description,
      headless: a.pinSalt === null, created: new Date(a.created).toISOString(),
    }));
    out(list, list.length ? list.map((a) => `${a.accountid}  ${a.server}  ${a.base}  ${a.userid ?? '(no user)'}${a.headless ? '  (no PIN)' : ''}`).join('\n') : 'No accounts yet: enrol with `tapin-device enrol <enrol-url>`.');
  });

program.parseAsync().catch((err: unknown) => {
  const error = err instanceof TapinError
    ? { code: err.code, message: err.message, ...(err.userError !== undefined ? { userError: err.userError } : {}), ...(err.details ? { details: err.details } : {}) }
    : { code: 'internal', message: err instanceof Error ? err.message : String(err) };
  if (globals().json) process.stderr.write(`${JSON.stringify({ error })}\n`);
  else {
    const left = err instanceof TapinError && typeof err.details?.['attemptsLeft'] === 'number' ? ` (${err.details['attemptsLeft']} attempts left)` : '';
    process.stderr.write(`tapin-device: ${error.message}${left} [${error.code}]\n`);
  }
  process.exit(1);
});
