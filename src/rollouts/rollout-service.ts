// Starting, reading, listing and canceling rollouts, and picking up rollouts nobody drives: at
// start (resume after a restart) and on a timer (a replica that died lets its lease run out).
import { randomUUID } from 'node:crypto';
import { RelayError } from '../errors.js';
import type { InstallServices } from '../installs/public.js';
import type { RolloutRecordDocument } from '../state/rollout-store.js';
import type { CallContext } from '../upstream/types.js';
import { leaseKey, RolloutDriver, type RolloutDriverOptions } from './rollout-driver.js';
import type { Rollout, RolloutRequest, RolloutTarget } from './rollout-model.js';
import { planRollout } from './rollout-planner.js';

export interface RolloutServiceOptions extends Omit<RolloutDriverOptions, 'holder'> {
  /** How often unfinished rollouts without a live driver are looked for. */
  adoptEveryMs: number;
}

export class RolloutService {
  private readonly drivers = new Map<string, RolloutDriver>();
  private readonly holder = `relay-${randomUUID()}`;
  private adoptTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: RolloutServiceOptions) {}

  get installs(): InstallServices {
    return this.o.installs;
  }

  async plan(request: RolloutRequest, ctx: CallContext): Promise<RolloutTarget[]> {
    return planRollout(this.o.installs, request, ctx);
  }

  async start(request: RolloutRequest, caller: string, ctx: CallContext): Promise<Rollout> {
    const targets = await this.plan(request, ctx);
    const now = new Date(this.o.clock.now()).toISOString();
    const rollout: Rollout = {
      rolloutId: randomUUID(),
      status: 'Running',
      createdAt: now,
      createdBy: caller,
      endedAt: null,
      request,
      cancelRequested: false,
      stoppedBecause: null,
      targets,
      events: [{ at: now, event: 'rollout.start', caller, reason: request.reason }],
    };
    await this.o.store.put(rollout as unknown as RolloutRecordDocument);
    this.o.log.info(
      { event: 'rollout.start', rolloutId: rollout.rolloutId, caller, reason: request.reason, packageUniqueName: request.packageUniqueName, targets: targets.length },
      'rollout started',
    );
    await this.drive(rollout);
    return this.drivers.get(rollout.rolloutId)?.snapshot() ?? rollout;
  }

  async get(rolloutId: string): Promise<Rollout> {
    const local = this.drivers.get(rolloutId);
    if (local) return local.snapshot();
    const stored = await this.o.store.get(rolloutId);
    if (!stored) {
      throw new RelayError(404, 'RolloutNotFound', `There is no rollout ${rolloutId}. Pick one from ListRollouts.`, { target: 'rolloutId' });
    }
    return stored as unknown as Rollout;
  }

  async list(skip: number, top: number): Promise<{ items: Rollout[]; total: number }> {
    const page = await this.o.store.list({ skip, top });
    return { items: page.items.map((r) => this.drivers.get(r.rolloutId)?.snapshot() ?? (r as unknown as Rollout)), total: page.total };
  }

  async cancel(rolloutId: string, caller: string, reason: string): Promise<Rollout> {
    const local = this.drivers.get(rolloutId);
    if (local) return local.cancel(caller, reason);
    const r = await this.get(rolloutId);
    if (r.status !== 'Running' || r.cancelRequested) return r;
    // Driven elsewhere (another replica): its driver reads the cancel from the record.
    r.cancelRequested = true;
    r.events.push({ at: new Date(this.o.clock.now()).toISOString(), event: 'rollout.cancel', caller, reason });
    await this.o.store.put(r as unknown as RolloutRecordDocument);
    this.o.log.info({ event: 'rollout.cancel', rolloutId, caller, reason }, 'rollout canceled: no new installs start');
    return r;
  }

  /** Picks up unfinished rollouts now and then every adoptEveryMs. */
  async resumeAll(): Promise<void> {
    await this.adopt();
    this.adoptTimer = setInterval(() => void this.adopt(), this.o.adoptEveryMs);
    this.adoptTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.adoptTimer);
    const drivers = [...this.drivers.values()];
    for (const d of drivers) d.abandon();
    await Promise.all([...this.running]);
  }

  private readonly running = new Set<Promise<void>>();

  private async adopt(): Promise<void> {
    try {
      for (const r of await this.o.store.unfinished()) {
        if (this.closed || this.drivers.has(r.rolloutId)) continue;
        const rollout = r as unknown as Rollout;
        if (await this.drive(rollout)) {
          rollout.events.push({ at: new Date(this.o.clock.now()).toISOString(), event: 'rollout.resume', caller: 'relay', reason: rollout.request.reason });
          this.o.log.info({ event: 'rollout.resume', rolloutId: r.rolloutId }, 'rollout resumed from its record');
        }
      }
    } catch (err) {
      this.o.log.warn({ event: 'rollout.adoptError', err: (err as Error).message }, 'could not look for unfinished rollouts; trying again later');
    }
  }

  /** Drives the rollout here if this process gets its lease; false when another holds it. */
  private async drive(rollout: Rollout): Promise<boolean> {
    if (this.closed || !(await this.o.leases.acquire(leaseKey(rollout.rolloutId), this.holder, this.o.leaseTtlMs))) return false;
    const driver = new RolloutDriver(rollout, { ...this.o, holder: this.holder });
    this.drivers.set(rollout.rolloutId, driver);
    const run = driver
      .run()
      .catch((err) => this.o.log.warn({ event: 'rollout.driverError', rolloutId: rollout.rolloutId, err: (err as Error).message }, 'rollout driver stopped; another pass resumes it'))
      .finally(() => {
        this.drivers.delete(rollout.rolloutId);
        this.running.delete(run);
      });
    this.running.add(run);
    return true;
  }
}
