// Poller leases: which replica polls an operation upstream. A lease has an expiry; its holder
// renews it while polling, and when the holder dies the lease runs out and another replica takes
// it over. The embedded default serves one process; PostgreSQL serves several (state/postgres).
import type { Clock } from '../clock.js';

export interface LeaseStore {
  /** Takes the lease when it is free, expired or already ours; true when `holder` now holds it for ttlMs. */
  acquire(key: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Extends our lease; false when it was lost (it expired and someone else took it). */
  renew(key: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up at once (the operation ended), only if we still hold it. */
  release(key: string, holder: string): Promise<void>;
  /** The current, unexpired holder, if any. */
  holder(key: string): Promise<string | undefined>;
}

export function createEmbeddedLeaseStore(clock: Pick<Clock, 'now'>): LeaseStore {
  const leases = new Map<string, { holder: string; expiresAt: number }>();
  const live = (key: string) => {
    const lease = leases.get(key);
    if (lease && lease.expiresAt <= clock.now()) {
      leases.delete(key);
      return undefined;
    }
    return lease;
  };
  return {
    async acquire(key, holder, ttlMs) {
      const lease = live(key);
      if (lease && lease.holder !== holder) return false;
      leases.set(key, { holder, expiresAt: clock.now() + ttlMs });
      return true;
    },
    async renew(key, holder, ttlMs) {
      const lease = live(key);
      if (lease?.holder !== holder) return false;
      lease.expiresAt = clock.now() + ttlMs;
      return true;
    },
    async release(key, holder) {
      if (live(key)?.holder === holder) leases.delete(key);
    },
    async holder(key) {
      return live(key)?.holder;
    },
  };
}
