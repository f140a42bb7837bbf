// Longer than most files: the poller's timing rules (backoff, holds, Retry-After, the deadline)
// interlock, and test/installs/install-poller.test.ts exercises them as one unit.
// One upstream poller per operation, shared by every request waiting on it. Waiters are cheap (a
// promise and a timer each); upstream sees one status call per poll interval however many wait.
// Polling honours upstream Retry-After, backs off with jitter, never hot-loops, stops when nobody
// waits, and gives up waiting at the install deadline (waitTimedOut: the relay's patience ran out,
// which says nothing about the install, so the status stays what upstream reports).
import type { Clock } from '../clock.js';
import { type InstallProgress, isTerminal } from './install-status.js';
import { UpstreamError } from '../upstream/errors.js';
import type { WaitRelease } from './wait-release.js';

export interface PollPolicy {
  /** First interval between polls. */
  initialMs: number;
  /** Each poll that finds the operation still running multiplies the interval by this. */
  factor: number;
  maxMs: number;
  /** Spread each interval by ±this fraction so many pollers do not fire in lockstep. */
  jitter: number;
  /** Floor for any wait, whatever upstream or the arithmetic says: no hot loops. */
  minMs: number;
  /**
   * Longest interval while a request is held in a long poll: a held answer should follow the
   * upstream completion within about a second, so the growing backoff is capped while
   * anyone holds. Upstream Retry-After and error backoff still win over it, and the cap depends
   * on whether someone holds, never on how many: status calls stay flat in the number of waiters.
   * Nobody holding (engine polls every Retry-After seconds): the backoff grows up to maxMs.
   */
  heldMaxMs?: number;
}

export const DEFAULT_POLL_POLICY: PollPolicy = {
  initialMs: 1_000,
  factor: 1.5,
  maxMs: 10_000,
  jitter: 0.2,
  minMs: 250,
  // 750 ms, not 1 s: completion → last answer is at most this plus one status call and the fan-out.
  heldMaxMs: 750,
};

export type FetchProgress = () => Promise<InstallProgress>;

const noTimer = () => {};

interface Waiter {
  resolve(p: InstallProgress): void;
  /** Stops the timer that ends this wait. */
  cancelTimer(): void;
  /** Removes the listener on the caller's release signal (shutdown), if any. */
  unlisten?(): void;
}

export interface OperationPollerOptions {
  operationId: string;
  fetch: FetchProgress;
  clock: Clock;
  policy?: PollPolicy;
  /** How long a wait on the install may last, counted from its start, before waiters are released
   *  with waitTimedOut. */
  deadlineMs: number;
  /** When the relay learned of the operation; the start if upstream does not say. */
  knownSince?: number;
  /**
   * Count the deadline from knownSince alone, not from upstream's earlier createdDateTime: set
   * when the relay started or (re)joined the install at knownSince, so a flow that joins an install
   * already running gets the whole deadline from its join instead of a timed-out wait at once.
   */
  deadlineFromKnownSince?: boolean;
  onTerminal?(p: InstallProgress): void;
  /** Once, when a wait first ends on the deadline (it passed before upstream ended the install). */
  onTimedOut?(p: InstallProgress): void;
  onPollError?(err: unknown): void;
  random?: () => number;
}

export class OperationPoller {
  private latest: InstallProgress | undefined;
  private latestAt = Number.NEGATIVE_INFINITY;
  /** When the backoff schedule polls next. */
  private nextPollAt = 0;
  /** Not before this, whatever: upstream Retry-After, error backoff, the floor. */
  private notBefore = 0;
  /** When the last status call ended (answer or error). */
  private lastCallEndedAt = Number.NEGATIVE_INFINITY;
  private intervalMs: number;
  private errorStreak = 0;
  private inFlight: Promise<InstallProgress> | undefined;
  private readonly waiters = new Set<Waiter>();
  private loopRunning = false;
  private loopStop = new AbortController();
  private terminalNotified = false;
  private timeoutNotified = false;
  private readonly policy: PollPolicy;
  private readonly knownSince: number;
  /** Upstream status calls made by this poller (for tests, metrics and the benchmark). */
  upstreamCalls = 0;
  terminalAt: number | undefined;
  readonly createdAt: number;

  constructor(private readonly o: OperationPollerOptions) {
    this.policy = o.policy ?? DEFAULT_POLL_POLICY;
    this.intervalMs = this.policy.initialMs;
    this.createdAt = o.clock.now();
    this.knownSince = o.knownSince ?? this.createdAt;
  }

  get waiting(): number {
    return this.waiters.size;
  }

  get lastKnown(): InstallProgress | undefined {
    return this.latest;
  }

  /** When the install started as far as this relay can tell (epoch ms, the relay's clock). */
  startedAtMs(): number {
    return this.deadlineAt() - this.o.deadlineMs;
  }

  /** When the last upstream answer arrived (epoch ms), for idle eviction. */
  get lastPolledAt(): number {
    return this.latestAt;
  }

  /** The operation ended, or the install deadline has passed: this poller has nothing more to tell. */
  get ended(): boolean {
    return (this.latest !== undefined && isTerminal(this.latest.status)) || this.o.clock.now() >= this.deadlineAt();
  }

  /** Epoch ms after which the install counts as timed out. */
  deadlineAt(): number {
    if (this.o.deadlineFromKnownSince) return this.knownSince + this.o.deadlineMs;
    const started = this.latest?.startedAt ? Date.parse(this.latest.startedAt) : Number.NaN;
    return (Number.isNaN(started) ? this.knownSince : Math.min(started, this.knownSince)) + this.o.deadlineMs;
  }

  /** The progress as a wait sees it: past the deadline, a running install ends the wait with
   *  waitTimedOut, its status still upstream's. */
  withDeadline(p: InstallProgress): InstallProgress {
    if (isTerminal(p.status) || this.o.clock.now() < this.deadlineAt()) return p;
    const timedOut: InstallProgress = { ...p, waitTimedOut: true };
    if (!this.timeoutNotified) {
      this.timeoutNotified = true;
      this.o.onTimedOut?.(timedOut);
    }
    return timedOut;
  }

  /** When the next status call is due: the backoff schedule, capped while someone holds. */
  private nextPollDue(): number {
    const held = this.policy.heldMaxMs;
    if (this.waiters.size === 0 || held === undefined) return this.nextPollAt;
    return Math.max(this.notBefore, Math.min(this.nextPollAt, this.lastCallEndedAt + held));
  }

  /**
   * The current progress, polling upstream only when the last answer is older than the poll
   * interval; concurrent callers share one upstream call. A failed poll answers with the last
   * known progress when there is one, so one upstream hiccup does not fail a flow.
   */
  async snapshot(maxWaitMs?: number): Promise<InstallProgress> {
    const now = this.o.clock.now();
    if (this.latest && (isTerminal(this.latest.status) || now < this.nextPollDue())) return this.latest;
    const poll = this.pollOnce();
    const known = this.latest;
    try {
      if (!known || maxWaitMs === undefined) return await poll;
      // A slow (throttled, retrying) status call must not hold a quick status read: answer with
      // what is known and let the call finish in the background for the next reader.
      poll.catch(() => {});
      const timer = new AbortController();
      const slow = this.o.clock.sleep(maxWaitMs, timer.signal).then(
        () => known,
        () => known,
      );
      try {
        return await Promise.race([poll, slow]);
      } finally {
        timer.abort();
      }
    } catch (err) {
      if (this.latest) return this.latest;
      throw err;
    }
  }

  /**
   * Resolves when the operation ends or after `ms`, whichever is first (with the deadline
   * applied). `release` ends the wait early with the current progress (the relay shutting down).
   */
  wait(ms: number, release?: WaitRelease): Promise<InstallProgress> {
    if (this.latest && isTerminal(this.latest.status)) return Promise.resolve(this.latest);
    if (this.o.clock.now() >= this.deadlineAt()) return this.snapshot().then((p) => this.withDeadline(p));
    if (ms <= 0 || release?.released) return this.snapshot().then((p) => this.withDeadline(p));
    return new Promise<InstallProgress>((resolve) => {
      const waiter: Waiter = { resolve, cancelTimer: noTimer };
      this.waiters.add(waiter);
      if (release) waiter.unlisten = release.onRelease(() => this.release(waiter, this.current()));
      // A plain timer, not a sleep with its own AbortController: per held wait that saved the
      // signal, its listener and, at release, a DOMException with a stack.
      waiter.cancelTimer = this.o.clock.timer(ms, () => this.release(waiter, this.current()));
      this.ensureLoop();
    });
  }

  /**
   * Progress learned without a status call of this poller's (another replica polled upstream and
   * published it): waiters held here see it now, and an ended install releases them at once.
   */
  observe(p: InstallProgress): void {
    if (this.latest && isTerminal(this.latest.status)) return;
    this.accept(p);
  }

  private current(): InstallProgress {
    return this.withDeadline(
      this.latest ?? {
        operationId: this.o.operationId,
        status: 'Running',
        startedAt: null,
        lastActionAt: null,
        statusMessage: null,
        error: null,
      },
    );
  }

  private release(waiter: Waiter, p: InstallProgress) {
    if (!this.waiters.delete(waiter)) return;
    waiter.cancelTimer();
    waiter.unlisten?.();
    waiter.resolve(p);
    // Nobody waits any more: stop polling now rather than at the next tick.
    if (this.waiters.size === 0) this.loopStop.abort();
  }

  private settleAll(p: InstallProgress) {
    for (const w of [...this.waiters]) this.release(w, p);
  }

  private pollOnce(): Promise<InstallProgress> {
    if (this.inFlight) return this.inFlight;
    this.upstreamCalls++;
    const call = this.o.fetch().then(
      (p) => {
        this.inFlight = undefined;
        this.accept(p);
        return p;
      },
      (err: unknown) => {
        this.inFlight = undefined;
        this.errorStreak++;
        this.lastCallEndedAt = this.o.clock.now();
        this.nextPollAt = this.lastCallEndedAt + this.delayAfterError(err);
        this.notBefore = this.nextPollAt;
        this.o.onPollError?.(err);
        throw err;
      },
    );
    this.inFlight = call;
    return call;
  }

  private accept(p: InstallProgress) {
    const now = this.o.clock.now();
    const changed = this.latest?.status !== p.status;
    this.latest = p;
    this.latestAt = now;
    this.errorStreak = 0;
    // A status change (NotStarted → Running) means things are moving: look again soon.
    // The backoff grows only while nobody holds: held polls come at the held cap anyway.
    const holding = this.waiters.size > 0 && this.policy.heldMaxMs !== undefined;
    if (changed) this.intervalMs = this.policy.initialMs;
    else if (!holding) this.intervalMs = Math.min(this.policy.maxMs, this.intervalMs * this.policy.factor);
    const upstreamMs = (p.upstreamRetryAfter ?? 0) * 1000;
    this.lastCallEndedAt = now;
    this.notBefore = now + Math.max(upstreamMs, this.policy.minMs);
    this.nextPollAt = Math.max(now + this.jittered(this.intervalMs), this.notBefore);
    if (isTerminal(p.status)) {
      this.terminalAt = now;
      this.settleAll(p);
      if (!this.terminalNotified) {
        this.terminalNotified = true;
        this.o.onTerminal?.(p);
      }
    }
  }

  private delayAfterError(err: unknown): number {
    const retryAfter = err instanceof UpstreamError ? err.details.retryAfterSeconds : undefined;
    const backoff = Math.min(this.policy.maxMs * 3, this.policy.initialMs * 2 ** Math.min(10, this.errorStreak));
    return Math.max(this.jittered(backoff), (retryAfter ?? 0) * 1000, this.policy.minMs);
  }

  private jittered(ms: number): number {
    const r = this.o.random ?? Math.random;
    return Math.round(ms * (1 + this.policy.jitter * (2 * r() - 1)));
  }

  private ensureLoop() {
    if (this.loopRunning) return;
    this.loopRunning = true;
    if (this.loopStop.signal.aborted) this.loopStop = new AbortController();
    this.loop().finally(() => {
      this.loopRunning = false;
      // A waiter may have arrived while the loop was winding down.
      if (this.waiters.size > 0 && !(this.latest && isTerminal(this.latest.status))) this.ensureLoop();
    });
  }

  private async loop(): Promise<void> {
    const stop = this.loopStop.signal;
    while (this.waiters.size > 0 && !stop.aborted) {
      if (this.latest && isTerminal(this.latest.status)) return this.settleAll(this.latest);
      const now = this.o.clock.now();
      const deadline = this.deadlineAt();
      if (now >= deadline) return this.settleAll(this.current());
      const waitMs = Math.min(this.nextPollDue() - now, deadline - now);
      if (waitMs > 0) {
        try {
          await this.o.clock.sleep(waitMs, stop);
        } catch {
          return;
        }
        continue;
      }
      await this.pollOnce().catch(() => {});
    }
  }
}
