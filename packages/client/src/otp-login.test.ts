import { describe, expect, it } from 'vitest';
import { TapinApiError, TapinClient, generateNonce } from './index.js';
import type { FetchLike, LoginStatus } from './index.js';

/** otpLogin: the offline-code fallback (DESIGN §3 `POST /session/otp`). */
const BASE = 'https://tapin.example.com/v1/servers/srv_12345678';
const nonce = generateNonce();

const loggedIn: LoginStatus = {
  loggedin: true,
  accountid: 'acc_1234567890abcdef',
  userid: 'alice',
  otplogin: true,
  canprovoke: false,
  hsid: 'AAAAAAAAAAAAAAAAAAAAAA',
  loginqrdata: 'https://tapin.example.com/q/srv_12345678/AAAAAAAAAAAAAAAAAAAAAA',
  state: 'loggedin',
  expires: null,
};

function clientAnswering(res: () => Response) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init });
    return res();
  };
  return { client: new TapinClient({ url: 'https://tapin.example.com', sid: 'srv_12345678', apiKey: 'k', fetch }), calls };
}

const json = (value: unknown, status = 200) => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

describe('otpLogin', () => {
  it('POSTs {otp} to /session/otp with the nonce in X-Nonce only, and answers the LoginStatus', async () => {
    const { client, calls } = clientAnswering(() => json(loggedIn));
    await expect(client.otpLogin(nonce, 'abcdef 123456')).resolves.toEqual(loggedIn);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.url).toBe(`${BASE}/session/otp`);
    expect(call?.url).not.toContain(nonce);
    expect(call?.init.method).toBe('POST');
    expect(call?.init.headers).toMatchObject({ 'X-Nonce': nonce, 'Content-Type': 'application/json', Authorization: 'Bearer k' });
    // Sent as typed: normalising look-alikes and spaces is the server's job, so the rules live in one place.
    expect(JSON.parse(call?.init.body as string)).toEqual({ otp: 'abcdef 123456' });
  });

  it.each([
    ['otp_invalid', 401],
    ['otp_locked', 429],
    ['otp_disabled', 403],
  ] as const)('a %s answer becomes a TapinApiError with that code', async (code, status) => {
    const { client } = clientAnswering(() => json({ error: { code, message: 'no' } }, status));
    const err = await client.otpLogin(nonce, 'ABCDEF123456').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TapinApiError);
    expect(err).toMatchObject({ code, status, responded: true });
  });

  it('refuses a bad nonce or an empty / oversized code before sending anything', async () => {
    const { client, calls } = clientAnswering(() => json(loggedIn));
    await expect(client.otpLogin('short', 'ABCDEF123456')).rejects.toMatchObject({ code: 'invalid_nonce' });
    for (const bad of ['', '   ', 'x'.repeat(65), 42 as unknown as string]) {
      await expect(client.otpLogin(nonce, bad)).rejects.toMatchObject({ code: 'bad_request', responded: false });
    }
    expect(calls).toHaveLength(0);
  });
});
