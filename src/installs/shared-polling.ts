// Following one install from several replicas (STATE_STORE=postgres). Every replica keeps its own
// OperationPoller for the waits it holds, but only the replica holding the operation's poller
// lease asks upstream: it publishes each answer to the shared progress row and as a change notice.
// The others read the row on their poll schedule and wake their held waits as soon as a notice
// arrives, so upstream status calls stay one stream per operation, however many replicas and
// waiters there are. The lease is renewed by each poll of its holder and runs out when the holder
// stops polling (nobody waits there any more, or it died); the next replica to poll takes it over.
import type { InstallProgressStore } from '../state/install-progress.js';
import type { LeaseStore } from '../state/leases.js';
import type { ChangeNotifier } from '../state/notifier.js';
import type { FetchProgress } from './install-poller.js';
import type { InstallProgress } from './install-status.js';
import type { OperationPollers } from './poller-pool.js';

export interface SharedPollingStores {
  leases: LeaseStore;
  notifier: ChangeNotifier;
  progress: InstallProgressStore;
}

export interface SharedPollingOptions {
  /** This replica's name in the lease table (unique per process). */
  replicaId: string;
  /** How long a lease outlives its holder's last poll; longer than any poll interval while held. */
  leaseMs?: number;
  onError?: (err: unknown) => void;
}

const NOTICE_PREFIX = 'install-progress:';
/** A notice payload must stay under PostgreSQL's 8000-byte limit; bigger ones go as a bare hint. */
const MAX_NOTICE_BYTES = 7_000;
const DEFAULT_LEASE_MS = 5_000;

interface ProgressNotice {
  from: string;
  progress?: InstallProgress;
}

export class SharedPolling {
  private readonly leaseMs: number;

  constructor(
    private readonly stores: SharedPollingStores,
    private readonly options: SharedPollingOptions,
  ) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** Delivers other replicas' published progress to the pollers held here; returns the unsubscribe. */
  listen(pollers: OperationPollers): () => void {
    return this.stores.notifier.subscribe((key, message) => {
      if (!key.startsWith(NOTICE_PREFIX)) return;
      let notice: ProgressNotice;
      try {
        notice = JSON.parse(message) as ProgressNotice;
      } catch {
        return;
      }
      if (notice.from === this.options.replicaId) return;
      const poller = pollers.peek(key.slice(NOTICE_PREFIX.length));
      if (!poller) return;
      if (notice.progress) poller.observe(notice.progress);
      // Too big for a notice: read the row now rather than at the next scheduled poll.
      else void this.stores.progress.read(key.slice(NOTICE_PREFIX.length)).then(
        (p) => p && poller.observe(p as InstallProgress),
        (err) => this.options.onError?.(err),
      );
    });
  }

  /**
   * The poller's fetch for one operation: upstream through `fetchUpstream` when this replica holds
   * (or can take) the lease, the published progress otherwise. Without a reachable database the
   * replica asks upstream itself: more status calls, but waits keep being answered.
   */
  fetch(key: string, fetchUpstream: FetchProgress): FetchProgress {
    const { leases, progress } = this.stores;
    const me = this.options.replicaId;
    return async () => {
      let holding: boolean;
      try {
        holding = await leases.acquire(leaseKey(key), me, this.leaseMs);
      } catch (err) {
        this.options.onError?.(err);
        return fetchUpstream();
      }
      if (!holding) {
        const published = await progress.read(key).catch((err: unknown) => {
          this.options.onError?.(err);
          return undefined;
        });
        if (published) return published as InstallProgress;
        // Nothing published yet (the holder's first call is still on its way): one read of our
        // own, published like the holder's, so this operation's first answer is never invented.
      }
      const p = await fetchUpstream();
      await this.publish(key, p, holding);
      return p;
    };
  }

  private async publish(key: string, p: InstallProgress, holding: boolean) {
    const me = this.options.replicaId;
    try {
      await this.stores.progress.publish(key, p);
      const full = JSON.stringify({ from: me, progress: p } satisfies ProgressNotice);
      const message = Buffer.byteLength(full) <= MAX_NOTICE_BYTES ? full : JSON.stringify({ from: me });
      await this.stores.notifier.notify(NOTICE_PREFIX + key, message);
      // Upstream may ask for a long pause: the lease must outlive it, or another replica would take
      // it over and poll early.
      if (holding) await this.stores.leases.renew(leaseKey(key), me, this.leaseMs + (p.upstreamRetryAfter ?? 0) * 1000);
    } catch (err) {
      this.options.onError?.(err);
    }
  }
}

const leaseKey = (key: string) => `install-poller:${key}`;
