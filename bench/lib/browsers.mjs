// Browser stand-ins on /v1/ws: a pool of sockets, each watching many sessions, resolving waits by frame.
import WebSocket from 'ws';

export class BrowserPool {
  static async open(base, size, localAddress) {
    const sockets = await Promise.all(Array.from({ length: size }, () => openSocket(base, localAddress)));
    return new BrowserPool(sockets);
  }

  constructor(sockets) {
    this.sockets = sockets;
    this.next = 0;
    this.waiters = new Map();
    for (const ws of sockets) {
      ws.on('message', (data) => {
        const [type, hsid, , code] = data.toString().split(' ');
        if (type === 'ERROR') {
          // The server refused a REGISTER (e.g. too many watches on one socket when the server is overloaded):
          // whatever waits on that session fails now instead of hanging the run.
          for (const [key, w] of this.waiters) if (key.endsWith(` ${hsid}`)) this.settle(key, w, new Error(`ERROR ${code} for ${hsid}`));
          return;
        }
        const key = `${type} ${hsid}`;
        const w = this.waiters.get(key);
        if (w) this.settle(key, w, performance.now());
      });
    }
  }

  /** Resolves with the time (performance.now) the frame arrived; fails after `timeoutMs` or on an ERROR frame. */
  waitFor(type, hsid, timeoutMs = 30_000) {
    const key = `${type} ${hsid}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(key, this.waiters.get(key), new Error(`no ${type} for ${hsid} in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(key, { resolve, reject, timer });
    });
  }

  settle(key, w, outcome) {
    if (!w) return;
    this.waiters.delete(key);
    clearTimeout(w.timer);
    if (outcome instanceof Error) w.reject(outcome);
    else w.resolve(outcome);
  }

  /** REGISTERs on one socket of the pool; resolves with that socket once the server answered WAITING. */
  async register(hsid, sid) {
    const ws = this.sockets[this.next++ % this.sockets.length];
    const waiting = this.waitFor('WAITING', hsid);
    ws.send(`REGISTER ${hsid} ${sid}`);
    await waiting;
    return ws;
  }

  close() {
    for (const ws of this.sockets) ws.terminate();
  }
}

export function openSocket(base, localAddress) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/ws`, { perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
