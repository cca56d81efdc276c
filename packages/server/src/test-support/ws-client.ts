import WebSocket from 'ws';

/** Test support: a browser-WebSocket client over a real socket (DESIGN §4 frames). */

/** A ws client that queues what it receives, so a test can take frames one by one. */
export class Socket {
  private readonly frames: string[] = [];
  private waiter: (() => void) | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.frames.push(isBinary ? `<binary ${String(data)}>` : String(data));
      this.waiter?.();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(url: string): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const socket = new Socket(ws);
      ws.once('open', () => resolve(socket));
      ws.once('error', reject);
    });
  }

  send(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** The next frame, or an error after `ms`. */
  async next(ms = 2000): Promise<string> {
    const deadline = Date.now() + ms;
    while (this.frames.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no frame arrived');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.frames.shift()!;
  }

  async take(n: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next());
    return out;
  }

  /** Asserts that nothing arrives for `ms`. */
  async quiet(ms = 200): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.frames.length > 0) throw new Error(`unexpected frames: ${this.frames.join(' | ')}`);
  }

  close(): void {
    this.ws.close();
  }
}
