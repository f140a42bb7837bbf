// Drives one rollout to its end: at most maxConcurrent installs at once (and one per environment,
// since Power Platform runs one package operation at a time there), each through the install
// machinery; busy or throttled environments are put back and tried later; the stop rule and a
// cancel end new starts while running installs finish. Every change is written to the rollout
// record first, so whoever drives it next (after a restart, or another replica) carries on.
import type { Clock } from '../clock.js';
import type { InstallServices } from '../installs/public.js';
import { endsWait, failureMessage, releaseOnAbort } from '../installs/public.js';
import type { LeaseStore } from '../state/leases.js';
import type { RolloutRecordDocument, RolloutStore } from '../state/rollout-store.js';
import { finalStatus, isActive, type Rollout, type RolloutTarget, stopRuleTripped } from './rollout-model.js';
import { deferralSeconds, failureOf } from './start-deferral.js';

export interface RolloutDriverOptions {
  installs: InstallServices;
  store: RolloutStore;
  leases: LeaseStore;
  clock: Clock;
  /** This process, as lease holder. */
  holder: string;
  leaseTtlMs: number;
  /** Longest wait before a busy or throttled environment is tried again. */
  retryDelayCapMs: number;
  /** Busy or throttled answers one environment may get before it counts as failed. */
  maxDeferrals: number;
  log: { info(o: Record<string, unknown>, m: string): void; warn(o: Record<string, unknown>, m: string): void };
}

/** How long one progress call holds before the driver looks at cancel, lease and stop rule again. */
const FOLLOW_SLICE_MS = 10_000;

export class RolloutDriver {
  private readonly stop = new AbortController();
  private wake: () => void = () => {};
  private writes: Promise<unknown> = Promise.resolve();
  private readonly busyEnvironments = new Set<string>();
  private lostLease = false;

  constructor(
    private rollout: Rollout,
    private readonly o: RolloutDriverOptions,
  ) {}

  get id(): string {
    return this.rollout.rolloutId;
  }

  /** No new starts; running installs finish and are reported. */
  cancel(caller: string, reason: string): Rollout {
    if (!this.rollout.cancelRequested && this.rollout.status === 'Running') {
      this.rollout.cancelRequested = true;
      this.rollout.events.push({ at: this.nowIso(), event: 'rollout.cancel', caller, reason });
      this.o.log.info({ event: 'rollout.cancel', rolloutId: this.id, caller, reason }, 'rollout canceled: no new installs start');
      void this.save();
      this.wake();
    }
    return this.snapshot();
  }

  snapshot(): Rollout {
    return structuredClone(this.rollout);
  }

  /** Stops driving without ending the rollout (shutdown): the record lets the next driver resume. */
  abandon(): void {
    this.stop.abort();
    this.wake();
  }

  async run(): Promise<void> {
    const renewer = setInterval(() => void this.keepLease(), Math.max(50, Math.floor(this.o.leaseTtlMs / 3)));
    renewer.unref();
    const active = new Map<RolloutTarget, Promise<void>>();
    try {
      // Installs that were running when the last driver stopped are followed, not started again.
      for (const t of this.rollout.targets) if (t.status === 'Running') active.set(t, this.follow(t, active));
      for (;;) {
        if (this.stop.signal.aborted || this.lostLease) return;
        this.checkStopRule();
        const starting = !this.rollout.cancelRequested && !this.rollout.stoppedBecause;
        if (starting) {
          while (active.size < this.rollout.request.maxConcurrent) {
            const next = this.nextReady();
            if (!next) break;
            active.set(next, this.follow(next, active));
          }
        }
        const planned = this.rollout.targets.filter((t) => t.status === 'Planned');
        if (active.size === 0 && (!starting || planned.length === 0)) break;
        const woken = new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        const waits: Promise<unknown>[] = [...active.values(), woken];
        const soonest = starting ? Math.min(...planned.map((t) => t.notBefore ?? 0)) : Number.POSITIVE_INFINITY;
        const sleeper = new AbortController();
        if (Number.isFinite(soonest) && active.size < this.rollout.request.maxConcurrent) {
          waits.push(this.o.clock.sleep(Math.max(1, soonest - this.o.clock.now()), sleeper.signal).catch(() => {}));
        }
        await Promise.race(waits);
        sleeper.abort();
      }
      await this.finish();
    } finally {
      clearInterval(renewer);
      await this.writes.catch(() => {});
    }
  }

  private nextReady(): RolloutTarget | undefined {
    const now = this.o.clock.now();
    return this.rollout.targets.find(
      (t) => t.status === 'Planned' && (t.notBefore ?? 0) <= now && !this.busyEnvironments.has(t.environmentId.toLowerCase()),
    );
  }

  private checkStopRule(): void {
    if (this.rollout.stoppedBecause || this.rollout.cancelRequested) return;
    const why = stopRuleTripped(this.rollout.request, this.rollout.targets);
    if (!why) return;
    this.rollout.stoppedBecause = why;
    this.rollout.events.push({ at: this.nowIso(), event: 'rollout.stop', caller: 'relay', reason: this.rollout.request.reason, detail: why });
    this.o.log.warn({ event: 'rollout.stop', rolloutId: this.id, why }, 'rollout stop rule reached: no new installs start');
    void this.save();
  }

  private async follow(t: RolloutTarget, active: Map<RolloutTarget, Promise<void>>): Promise<void> {
    const env = t.environmentId.toLowerCase();
    this.busyEnvironments.add(env);
    try {
      await this.install(t);
    } finally {
      this.busyEnvironments.delete(env);
      active.delete(t);
      this.wake();
    }
  }

  /** One environment's install, from start (or join) to its end, through the install machinery. */
  private async install(t: RolloutTarget): Promise<void> {
    const { installs } = this.o.installs;
    const ctx = { correlationId: `rollout-${this.id}` };
    const pkg = t.packageUniqueName!;
    if (t.status !== 'Running') {
      t.status = 'Running';
      t.startedAt = this.nowIso();
      await this.save();
    }
    try {
      if (!t.operationId) {
        const started = await installs.start(t.environmentId, pkg, `rollout:${this.id} (${this.rollout.createdBy})`, ctx);
        if (started.kind === 'alreadyInstalled') {
          Object.assign(t, { status: 'Skipped', skipReason: 'AlreadyCurrent', toVersion: started.result.packageVersion, finishedAt: this.nowIso() });
          await this.save();
          return;
        }
        t.operationId = started.record.operationId;
        t.toVersion = started.record.packageVersion ?? t.toVersion;
        await this.save();
      }
      for (;;) {
        if (this.stop.signal.aborted) return;
        const view = await installs.progress(
          t.environmentId,
          t.operationId,
          { packageUniqueName: pkg, packageVersion: t.toVersion },
          FOLLOW_SLICE_MS,
          { release: releaseOnAbort(this.stop.signal) },
        );
        const r = view.result;
        if (!endsWait(r)) continue;
        t.finishedAt = this.nowIso();
        if (r.status === 'Succeeded' && !r.waitTimedOut) {
          t.status = 'Succeeded';
          t.toVersion = r.packageVersion ?? t.toVersion;
        } else {
          t.status = 'Failed';
          const code = r.waitTimedOut ? 'InstallWaitTimedOut' : r.status === 'Canceled' ? 'InstallCanceled' : 'InstallFailed';
          t.error = { code, message: failureMessage(r) };
        }
        await this.save();
        return;
      }
    } catch (err) {
      if (this.stop.signal.aborted) return;
      const wait = deferralSeconds(err);
      if (wait !== undefined && t.deferrals < this.o.maxDeferrals && !t.operationId) {
        t.deferrals++;
        Object.assign(t, { status: 'Planned', startedAt: null, notBefore: this.o.clock.now() + Math.min(wait * 1000, this.o.retryDelayCapMs) });
        this.o.log.info({ event: 'rollout.deferred', rolloutId: this.id, environmentId: t.environmentId, retryInSeconds: wait }, 'environment busy or throttled; tried again later');
      } else {
        Object.assign(t, { status: 'Failed', error: failureOf(err), finishedAt: this.nowIso() });
      }
      await this.save();
    }
  }

  private async finish(): Promise<void> {
    for (const t of this.rollout.targets) if (isActive(t)) t.status = 'NotStarted';
    this.rollout.status = finalStatus(this.rollout);
    this.rollout.endedAt = this.nowIso();
    this.rollout.events.push({ at: this.rollout.endedAt, event: 'rollout.end', caller: 'relay', reason: this.rollout.request.reason, detail: this.rollout.status });
    this.o.log.info({ event: 'rollout.end', rolloutId: this.id, status: this.rollout.status, startedBy: this.rollout.createdBy, reason: this.rollout.request.reason }, `rollout ended: ${this.rollout.status}`);
    await this.save();
    await this.o.leases.release(leaseKey(this.id), this.o.holder).catch(() => {});
  }

  private async keepLease(): Promise<void> {
    try {
      if (!(await this.o.leases.renew(leaseKey(this.id), this.o.holder, this.o.leaseTtlMs))) {
        this.lostLease = true;
        this.stop.abort();
        this.wake();
        return;
      }
      // A cancel may have been recorded by another replica.
      const stored = await this.o.store.get(this.id);
      if (stored?.['cancelRequested'] === true && !this.rollout.cancelRequested) {
        const ev = (stored as unknown as Rollout).events.filter((e) => e.event === 'rollout.cancel').at(-1);
        this.cancel(ev?.caller ?? 'unknown', ev?.reason ?? '');
      }
    } catch (err) {
      this.o.log.warn({ event: 'rollout.leaseError', rolloutId: this.id, err: (err as Error).message }, 'could not renew the rollout lease; trying again');
    }
  }

  /** Writes in order; a lost lease stops writing so two drivers never overwrite each other. */
  private save(): Promise<void> {
    const doc = structuredClone(this.rollout) as unknown as RolloutRecordDocument;
    const write = this.writes.then(() => (this.lostLease ? undefined : this.o.store.put(doc)));
    this.writes = write.catch((err) => this.o.log.warn({ event: 'rollout.saveError', rolloutId: this.id, err: (err as Error).message }, 'could not write the rollout record'));
    return write;
  }

  private nowIso(): string {
    return new Date(this.o.clock.now()).toISOString();
  }
}

export const leaseKey = (rolloutId: string) => `rollout:${rolloutId}`;
