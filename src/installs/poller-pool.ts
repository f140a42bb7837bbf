// The pollers this process runs, one per operation. Ended operations are kept for a while so
// late engine polls answer from memory; idle ones (nobody waiting, not polled lately) are
// dropped, so memory follows the installs actually being waited on.
import type { Clock } from '../clock.js';
import { isTerminal } from './install-status.js';
import { OperationPoller, type OperationPollerOptions } from './install-poller.js';

const KEEP_ENDED_MS = 15 * 60_000;
const KEEP_IDLE_MS = 5 * 60_000;

export class OperationPollers {
  private readonly pollers = new Map<string, OperationPoller>();

  constructor(private readonly clock: Clock) {}

  /** The poller for `key`, created with `create()` the first time. */
  get(key: string, create: () => Omit<OperationPollerOptions, 'clock'>): OperationPoller {
    this.sweep();
    let poller = this.pollers.get(key);
    if (!poller) {
      poller = new OperationPoller({ ...create(), clock: this.clock });
      this.pollers.set(key, poller);
    }
    return poller;
  }

  /** Drops a poller nobody waits on (its operation turned out not to exist, or a new install or
   *  join of the same key starts, which must not inherit an ended operation's answer). */
  forget(key: string): void {
    const poller = this.pollers.get(key);
    if (poller && poller.waiting === 0) this.pollers.delete(key);
  }

  peek(key: string): OperationPoller | undefined {
    return this.pollers.get(key);
  }

  /** Requests held open across every operation (for metrics and shutdown). */
  get waiting(): number {
    let n = 0;
    for (const p of this.pollers.values()) n += p.waiting;
    return n;
  }

  get size(): number {
    return this.pollers.size;
  }

  private sweep() {
    const now = this.clock.now();
    for (const [key, p] of this.pollers) {
      if (p.waiting > 0) continue;
      const ended = p.lastKnown && isTerminal(p.lastKnown.status);
      const last = ended ? (p.terminalAt ?? p.lastPolledAt) : Math.max(p.lastPolledAt, p.createdAt);
      if (now - last > (ended ? KEEP_ENDED_MS : KEEP_IDLE_MS)) this.pollers.delete(key);
    }
  }
}
