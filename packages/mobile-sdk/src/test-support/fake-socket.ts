import type { WebSocketConstructor, WebSocketLike } from '../lifecycle/device-socket.js';

/**
 * A device socket the test plays the server for: nothing happens on it until the test opens it, sends on it or
 * drops it. Closing it from the SDK's side is counted, and reported back asynchronously as a real socket does.
 */
export class FakeSocket implements WebSocketLike {
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: string[] = [];
  /** How often the SDK called close(). */
  closeCalls = 0;
  private closed = false;

  constructor(readonly url: string) {}

  send(data: string): void {
    this.sent.push(data);
  }

  close(): void {
    this.closeCalls++;
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.onclose?.({ code: 1005, reason: '' }));
  }

  /** The server (or the network) ends the connection: 1006 for a lost network, 1008 with an error code for a refusal. */
  drop(code: number, reason = ''): void {
    this.closed = true;
    this.onclose?.({ code, reason });
  }
}

/** A WebSocket option for the SDK, and every socket it has made so far, oldest first. */
export function fakeSockets(): { opened: FakeSocket[]; WebSocket: WebSocketConstructor } {
  const opened: FakeSocket[] = [];
  const WebSocket = class extends FakeSocket {
    constructor(url: string) {
      super(url);
      opened.push(this);
    }
  };
  return { opened, WebSocket };
}
