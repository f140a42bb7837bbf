// A Clock for tests: now() follows the wall clock plus all the time "slept" so far, and sleep()
// returns at once (after a macrotask, so other work interleaves) while recording how long the
// code asked to wait. Tests assert on `sleeps` instead of measuring real time.
import { type Clock, systemClock } from '../../src/clock.js';

export class FastClock implements Clock {
  readonly sleeps: number[] = [];
  private skewMs = 0;

  now(): number {
    return Date.now() + this.skewMs;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    this.sleeps.push(ms);
    this.skewMs += ms;
    await new Promise((resolve) => setImmediate(resolve));
  }

  timer(ms: number, fire: () => void): () => void {
    this.sleeps.push(ms);
    this.skewMs += ms;
    const handle = setImmediate(fire);
    return () => clearImmediate(handle);
  }

  get totalSleptMs(): number {
    return this.sleeps.reduce((a, b) => a + b, 0);
  }
}

/** The wall clock plus whatever the test jumps forward (`skewMs`); sleeps are real. */
export class JumpClock implements Clock {
  skewMs = 0;
  now() {
    return Date.now() + this.skewMs;
  }
  sleep(ms: number, signal?: AbortSignal) {
    return systemClock.sleep(ms, signal);
  }
  timer(ms: number, fire: () => void) {
    return systemClock.timer(ms, fire);
  }
}
