/** A counting semaphore: bounds in-flight work (uploads, parts) without an unbounded queue of promises. */
import { assert } from '../errors.js';

export class Semaphore {
  private available: number;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly permits: number, readonly waitersMax = 100_000) {
    assert(Number.isInteger(permits) && permits > 0, 'semaphore permits must be a positive integer', { permits });
    this.available = permits;
  }

  async acquire(): Promise<void> {
    if (this.available > 0) {
      this.available--;
      return;
    }
    assert(this.waiters.length < this.waitersMax, 'semaphore waiter queue is full', { waitersMax: this.waitersMax });
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) next();
    else {
      this.available++;
      assert(this.available <= this.permits, 'semaphore released more than acquired');
    }
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
