import { deriveHsid, randomId } from '@tapin/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, business, enrolPhone, generateNonce, snapshot, startHarness } from '../test-support/harness.js';
import { Socket } from '../test-support/ws-client.js';

/** The browser WebSocket (DESIGN §4) over a real socket: `TYPE HSID SID` text frames. */

let h: Harness;
let url: string;
let call: ReturnType<typeof business>;
const sockets: Socket[] = [];

// One listening server for the file; every test makes its own sessions and sockets.
beforeAll(async () => {
  h = await startHarness({ ipFailuresPerMinute: 1_000_000 });
  call = business(h.app, h.a.sid, h.a.apiKey);
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const address = h.app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('not listening');
  url = `ws://127.0.0.1:${address.port}/v1/ws`;
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.ws.terminate();
});
afterAll(async () => {
  await h.close();
});

async function open(): Promise<Socket> {
  const s = await Socket.open(url);
  sockets.push(s);
  return s;
}

async function newSession(): Promise<{ nonce: string; hsid: string }> {
  const nonce = generateNonce();
  expect((await call('GET', '/session', { nonce })).statusCode).toBe(200);
  return { nonce, hsid: deriveHsid(h.a.sid, nonce) };
}

describe('REGISTER', () => {
  it('answers a real session at once with WAITING, then follows it: CONFIRMSCAN, LOGIN, LOGOUT', async () => {
    const { nonce, hsid } = await newSession();
    const phone = await enrolPhone(h, { pin: null });
    const s = await open();
    s.send(`REGISTER ${hsid} ${h.a.sid}`);
    expect(await s.next()).toBe(`WAITING ${hsid} ${h.a.sid}`);
    await phone.login(hsid);
    expect(await s.take(2)).toEqual([`CONFIRMSCAN ${hsid} ${h.a.sid}`, `LOGIN ${hsid} ${h.a.sid}`]);
    expect((await call('POST', '/session/logout', { nonce })).statusCode).toBe(200);
    // Logged out, the session may be pushed to again (an account logged in on it): the watcher hears so at once.
    expect(await s.take(2)).toEqual([`LOGOUT ${hsid} ${h.a.sid}`, `CANPROVOKE ${hsid} ${h.a.sid}`]);
    // Registering again answers with the current state; identity never travels on the socket.
    // An account logged in on this session before, so the page may ask for a push (DESIGN §8).
    s.send(`REGISTER ${hsid} ${h.a.sid}`);
    expect(await s.take(2)).toEqual([`LOGOUT ${hsid} ${h.a.sid}`, `CANPROVOKE ${hsid} ${h.a.sid}`]);
    await s.quiet(100);
  });

  it('tells a declined login (CANCEL) and an expired session (EXPIRED)', async () => {
    const { hsid } = await newSession();
    const phone = await enrolPhone(h, { pin: null });
    const s = await open();
    s.send(`REGISTER ${hsid} ${h.a.sid}`);
    expect(await s.next()).toBe(`WAITING ${hsid} ${h.a.sid}`);
    const session = await phone.fetch(hsid);
    expect(await s.next()).toBe(`CONFIRMSCAN ${hsid} ${h.a.sid}`);
    expect((await phone.answer(session, 'decline')).statusCode).toBe(200);
    expect(await s.next()).toBe(`CANCEL ${hsid} ${h.a.sid}`);

    const other = await newSession();
    h.clock.advance(10 * 60_000);
    s.send(`REGISTER ${other.hsid} ${h.a.sid}`);
    expect(await s.next()).toBe(`EXPIRED ${other.hsid} ${h.a.sid}`);
  });

  it('answers an unknown hsid with ERROR <hsid> <sid> session_not_found', async () => {
    const s = await open();
    const hsid = deriveHsid(h.a.sid, generateNonce());
    s.send(`REGISTER ${hsid} ${h.a.sid}`);
    expect(await s.next()).toBe(`ERROR ${hsid} ${h.a.sid} session_not_found`);
    // A real hsid under another virtual server is unknown there.
    const { hsid: real } = await newSession();
    s.send(`REGISTER ${real} ${h.b.sid}`);
    expect(await s.next()).toBe(`ERROR ${real} ${h.b.sid} session_not_found`);
    const sid = randomId(16);
    s.send(`REGISTER ${real} ${sid}`);
    expect(await s.next()).toBe(`ERROR ${real} ${sid} session_not_found`);
    // The socket stays usable.
    s.send(`REGISTER ${real} ${h.a.sid}`);
    expect(await s.next()).toBe(`WAITING ${real} ${h.a.sid}`);
    // Only reads happened: no session was made for the unknown handles.
    expect(await h.ctx.store.getSession(h.a.sid, hsid)).toBeUndefined();
    expect(await h.ctx.store.getSession(h.b.sid, real)).toBeUndefined();
    expect(await h.ctx.store.getSession(sid, real)).toBeUndefined();
  });

  it('watches many sessions on one socket, each with its own events', async () => {
    const sessions = [];
    for (let i = 0; i < 5; i++) sessions.push(await newSession());
    const s = await open();
    for (const { hsid } of sessions) s.send(`REGISTER ${hsid} ${h.a.sid}`);
    expect((await s.take(5)).sort()).toEqual(sessions.map(({ hsid }) => `WAITING ${hsid} ${h.a.sid}`).sort());

    const phone = await enrolPhone(h, { pin: null });
    await phone.fetch(sessions[2]!.hsid);
    expect(await s.next()).toBe(`CONFIRMSCAN ${sessions[2]!.hsid} ${h.a.sid}`);
    await phone.fetch(sessions[4]!.hsid);
    expect(await s.next()).toBe(`CONFIRMSCAN ${sessions[4]!.hsid} ${h.a.sid}`);
    await s.quiet(100);

    // Registering twice does not double the events.
    s.send(`REGISTER ${sessions[0]!.hsid} ${h.a.sid}`);
    expect(await s.next()).toBe(`WAITING ${sessions[0]!.hsid} ${h.a.sid}`);
    await phone.fetch(sessions[0]!.hsid);
    expect(await s.next()).toBe(`CONFIRMSCAN ${sessions[0]!.hsid} ${h.a.sid}`);
    await s.quiet(100);

    // Two sockets watching one session both hear it.
    const t = await open();
    t.send(`REGISTER ${sessions[1]!.hsid} ${h.a.sid}`);
    s.send(`REGISTER ${sessions[1]!.hsid} ${h.a.sid}`);
    expect(await t.next()).toBe(`WAITING ${sessions[1]!.hsid} ${h.a.sid}`);
    expect(await s.next()).toBe(`WAITING ${sessions[1]!.hsid} ${h.a.sid}`);
    await phone.fetch(sessions[1]!.hsid);
    expect(await t.next()).toBe(`CONFIRMSCAN ${sessions[1]!.hsid} ${h.a.sid}`);
    expect(await s.next()).toBe(`CONFIRMSCAN ${sessions[1]!.hsid} ${h.a.sid}`);
  });

  it('stops watching on LOGOUT (the frame ends the watch, not the login)', async () => {
    const { nonce, hsid } = await newSession();
    const s = await open();
    s.send(`REGISTER ${hsid} ${h.a.sid}`);
    expect(await s.next()).toBe(`WAITING ${hsid} ${h.a.sid}`);
    s.send(`LOGOUT ${hsid} ${h.a.sid}`);
    await s.quiet(100);
    const phone = await enrolPhone(h, { pin: null });
    await phone.login(hsid);
    await s.quiet(200);
    expect((await call('GET', '/session', { nonce })).json()).toMatchObject({ state: 'loggedin' });
  });

  it('refuses PROVOKE while no session can be provoked', async () => {
    const { hsid } = await newSession();
    const s = await open();
    s.send(`PROVOKE ${hsid} ${h.a.sid}`);
    expect(await s.next()).toBe(`ERROR ${hsid} ${h.a.sid} session_state`);
  });

  it('limits the watches per socket to 64', async () => {
    const s = await open();
    const hsids = [];
    for (let i = 0; i < 65; i++) hsids.push((await newSession()).hsid);
    for (const hsid of hsids.slice(0, 64)) s.send(`REGISTER ${hsid} ${h.a.sid}`);
    expect(await s.take(64)).toHaveLength(64);
    s.send(`REGISTER ${hsids[64]} ${h.a.sid}`);
    expect(await s.next()).toBe(`ERROR ${hsids[64]} ${h.a.sid} rate_limited`);
    // Re-registering one already watched is fine.
    s.send(`REGISTER ${hsids[0]} ${h.a.sid}`);
    expect(await s.next()).toBe(`WAITING ${hsids[0]} ${h.a.sid}`);
  });
});

describe('bad frames', () => {
  it('answers garbage with ERROR - - bad_request and keeps the socket open', async () => {
    const { hsid } = await newSession();
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    const s = await open();
    const garbage = [
      'HELLO', '', ' ', 'REGISTER', `REGISTER ${hsid}`, `register ${hsid} ${h.a.sid}`, `REGISTER  ${hsid} ${h.a.sid}`,
      `REGISTER ${hsid} ${h.a.sid} x y`, `LOGIN ${hsid} ${h.a.sid}`, `REGISTER ${hsid} ${h.a.sid} `, 'x'.repeat(300), '{"type":"REGISTER"}',
    ];
    for (const frame of garbage) {
      s.send(frame);
      expect(await s.next(), JSON.stringify(frame)).toBe('ERROR - - bad_request');
    }
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
    s.send(`REGISTER ${hsid} ${h.a.sid}`);
    expect(await s.next()).toBe(`WAITING ${hsid} ${h.a.sid}`);
  });

  it('answers malformed handles with ERROR - - invalid_hsid', async () => {
    const { hsid } = await newSession();
    const s = await open();
    for (const frame of [`REGISTER short ${h.a.sid}`, `REGISTER ${hsid}x ${h.a.sid}`, `REGISTER ${hsid} bad.sid!`, `REGISTER ${hsid.slice(0, 21)}+ ${h.a.sid}`]) {
      s.send(frame);
      expect(await s.next(), frame).toBe('ERROR - - invalid_hsid');
    }
  });

  it('answers a binary frame with an error frame', async () => {
    const { hsid } = await newSession();
    const s = await open();
    s.send(Buffer.from(`REGISTER ${hsid} ${h.a.sid}`));
    expect(await s.next()).toBe('ERROR - - bad_request');
  });

  it('closes the socket (1008) after 16 errors', async () => {
    const s = await open();
    for (let i = 0; i < 16; i++) s.send(`NONSENSE ${i}`);
    expect(await s.take(16)).toEqual(Array.from({ length: 16 }, () => 'ERROR - - bad_request'));
    const closed = await s.closed;
    expect(closed.code).toBe(1008);
    expect(s.ws.readyState).toBe(s.ws.CLOSED);
  });

  it('counts unknown sessions as errors too', async () => {
    const s = await open();
    const hsids = Array.from({ length: 16 }, () => deriveHsid(h.a.sid, generateNonce()));
    for (const hsid of hsids) s.send(`REGISTER ${hsid} ${h.a.sid}`);
    expect((await s.take(16)).every((f) => f.endsWith('session_not_found'))).toBe(true);
    expect((await s.closed).code).toBe(1008);
  });

  it('drops a connection that sends an oversized frame', async () => {
    const s = await open();
    s.send('REGISTER '.repeat(200));
    const closed = await s.closed;
    expect(closed.code).toBe(1009);
  });
});
