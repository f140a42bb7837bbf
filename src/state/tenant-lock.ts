// The per-tenant write lock around every isolation read-modify-write. Behind an interface so a
// shared engine (Redis, PostgreSQL advisory locks) can replace the in-process default when the relay
// runs as several replicas; nothing else assumes one process.
import { RelayError } from '../errors.js';

export interface TenantLock {
  /** Runs fn while holding the lock for key; waiters run in arrival order. */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

export interface InProcessLockOptions {
  /** How long a writer may queue before it gives up with a 503 (ms). */
  maxWaitMs?: number;
}

/** A FIFO mutex per key. Keys with nobody holding or waiting are forgotten. */
export function createInProcessTenantLock(options: InProcessLockOptions = {}): TenantLock {
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  // key → the promise the next waiter must await (the tail of the queue).
  const tails = new Map<string, Promise<void>>();

  return {
    async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tail = previous.then(() => mine);
      tails.set(key, tail);
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          previous,
          new Promise<void>((_, reject) => {
            timer = setTimeout(() => {
              reject(
                new RelayError(
                  503,
                  'PolicyBusy',
                  `Other changes to the tenant isolation policy have been queued for more than ${Math.max(1, Math.round(maxWaitMs / 1000))} seconds; retry in a minute.`,
                  { retryAfter: 30 },
                ),
              );
            }, maxWaitMs);
          }),
        ]);
      } catch (err) {
        // Keep the queue intact: our slot is released as soon as the writer ahead of us finishes.
        release();
        if (tails.get(key) === tail) void tail.then(() => tails.get(key) === tail && tails.delete(key));
        throw err;
      } finally {
        clearTimeout(timer);
      }
      try {
        return await fn();
      } finally {
        release();
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
  };
}
