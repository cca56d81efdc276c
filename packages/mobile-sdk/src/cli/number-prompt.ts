import { type Interface, createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/**
 * Number matching for `tapin-device listen` without `--number`: asks at the terminal, or, when stdin is not a
 * terminal, reads one number per push from it (`echo 42 | tapin-device listen --approve --once`). Undefined when
 * stdin has ended without one, so the caller can say clearly what is missing.
 */
export class NumberPrompt {
  private rl: Interface | undefined;
  private readonly lines: string[] = [];
  private readonly waiting: Array<(line: string | undefined) => void> = [];
  private ended = false;

  constructor(
    private readonly input: Readable & { isTTY?: boolean },
    private readonly output: Writable,
  ) {}

  get interactive(): boolean {
    return this.input.isTTY === true;
  }

  /**
   * The number the user gives for a push offering `numbers`. At a terminal, anything that is not one of the three
   * is asked again (a typo should not cancel a login); from a pipe the number is taken as given, like --number.
   */
  async pick(numbers: readonly number[]): Promise<number | undefined> {
    for (;;) {
      if (this.interactive) this.output.write(`Which number does the login page show? (${numbers.join(' / ')}) `);
      const line = await this.nextLine();
      if (line === undefined) return undefined;
      const text = line.trim();
      const n = /^\d{1,2}$/.test(text) ? Number(text) : NaN;
      if (this.interactive && !numbers.includes(n)) {
        this.output.write(`Type one of ${numbers.join(', ')}.\n`);
        continue;
      }
      if (Number.isNaN(n)) return undefined;
      return n;
    }
  }

  close(): void {
    this.rl?.close();
  }

  private nextLine(): Promise<string | undefined> {
    this.open();
    const line = this.lines.shift();
    if (line !== undefined || this.ended) return Promise.resolve(line);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  // Opened on first use only: a readline on stdin keeps the process alive, and most runs never need it.
  private open(): void {
    if (this.rl) return;
    this.rl = createInterface({ input: this.input, terminal: false });
    this.rl.on('line', (line) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter(line);
      else this.lines.push(line);
    });
    this.rl.on('close', () => {
      this.ended = true;
      for (const waiter of this.waiting.splice(0)) waiter(undefined);
    });
  }
}
