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
        const [type, hsid] = data.toString().split(' ');
        const key = `${type} ${hsid}`;
        const w = this.waiters.get(key);
        if (w) {
          this.waiters.delete(key);
          w(performance.now());
        }
      });
    }
  }

  /** Resolves with the time (performance.now) the frame arrived. */
  waitFor(type, hsid) {
    return new Promise((resolve) => this.waiters.set(`${type} ${hsid}`, resolve));
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
