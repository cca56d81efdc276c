import WebSocket from 'ws';

/** A browser stand-in on the real /v1/ws socket: collects frames and waits for the ones a test expects. */
export class Watcher {
  readonly frames: string[] = [];
  private waiters: Array<{ match: (f: string) => boolean; resolve: (f: string) => void }> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = data.toString();
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => (w.match(frame) ? (w.resolve(frame), false) : true));
    });
  }

  static async connect(url: string): Promise<Watcher> {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/ws`);
    await new Promise<void>((res, rej) => {
      socket.once('open', () => res());
      socket.once('error', rej);
    });
    return new Watcher(socket);
  }

  send(text: string): void {
    this.socket.send(text);
  }

  /** Resolves with the first frame (already received or still to come) starting with `prefix`. */
  next(prefix: string, timeoutMs = 5000): Promise<string> {
    const seen = this.frames.find((f) => f.startsWith(prefix));
    if (seen) {
      this.frames.splice(this.frames.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${prefix} frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`)), timeoutMs);
      this.waiters.push({
        match: (f) => f.startsWith(prefix),
        resolve: (f) => {
          clearTimeout(timer);
          this.frames.splice(this.frames.indexOf(f), 1);
          resolve(f);
        },
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}
