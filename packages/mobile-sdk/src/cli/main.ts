#!/usr/bin/env node
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { TapinError, type SessionInfo } from '@tapin/protocol';
import { TapinDevice } from '../device.js';
import { PIN_RE } from '../enrol.js';
import { FileStore } from '../node/file-store.js';

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
  .description('Scan a login link and approve it (or decline with --decline)')
  .argument('<login-url>', 'the login link, https://…/q/<sid>/<hsid>')
  .option('--pin <pin>', 'the PIN, when the server asks for it')
  .option('--decline', 'decline instead of approving', false)
  .option('--account <accountid>', 'which account, when this phone has several at that server')
  .action(async (url: string, opts: { pin?: string; decline: boolean; account?: string }) => {
    const d = device();
    const pin = pinOption(opts.pin);
    const { account, session } = await d.open(url, opts.account);
    if (!globals().json) process.stdout.write(`Login request from "${account.server.name}":\n${describeInfo(session.announceinfo)}\n`);
    if (!opts.decline && session.pinRequired && pin === undefined) {
      throw new TapinError('pin_required', 'This login needs your PIN: run again with --pin <PIN>.');
    }
    const result = await d.answer(account, session, opts.decline ? 'decline' : 'approve', opts.decline ? undefined : pin);
    out(
      { hsid: result.hsid, state: result.state, accountid: account.accountid, announceinfo: session.announceinfo },
      result.state === 'loggedin' ? 'Approved: you are logged in.' : 'Declined.',
    );
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
