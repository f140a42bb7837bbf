// The write-attempt loop of one isolation change, run inside the tenant lock after the audit
// intent is durable. Each attempt: re-read just before the PUT (a full-document PUT would
// otherwise undo what another writer did in between), PUT, read back, verify. The loop ends in one
// of a few explicit outcomes; IsolationService turns each into an audit completion and an answer.
import type { Clock } from '../clock.js';
import { retryDelayMs } from '../upstream/backoff.js';
import type { CallContext, IsolationClient, RawIsolationPolicy } from '../upstream/types.js';
import { applyChange, changeIsPresent, checkReadBack, diffPolicies, type IsolationChange, type PolicyDiff } from './change.js';
import { type PolicySnapshot, snapshotOf } from './policy-snapshot.js';
import { classifyPutFailure, retryAfterOf } from './put-failure.js';

/** How the loop ended. */
export type WriteEnd =
  /** The change is in the policy (`current`): by our PUT, or by someone else's before ours. */
  | { end: 'settled' }
  /** Another writer kept (or, for a strict write, once) moving the policy; the change is not in place. */
  | { end: 'conflict' }
  /** Upstream refused the PUT and the policy does not show it. */
  | { end: 'failed'; error: unknown }
  /** A PUT may or may not be in the policy; the relay cannot tell. */
  | { end: 'unknown'; error: unknown; why: string }
  /** An upstream read (or the wait between attempts) failed mid-way. */
  | { end: 'interrupted'; error: unknown };

type AttemptEnd = WriteEnd | { end: 'again' };

export interface WriteAttemptsDeps {
  isolation: IsolationClient;
  clock: Clock;
  ownTenantId: string;
  change: IsolationChange;
  call: CallContext;
  /** A whole-policy replace, or a compare-and-swap write: never redone on a policy the caller has not seen. */
  strict: boolean;
  maxAttempts: number;
}

export class WriteAttempts {
  /** PUTs sent so far. */
  puts = 0;
  /** Whether a PUT of ours is (or may be) in the policy now. */
  written = false;
  /** What other writers changed while this write ran, in order. */
  readonly concurrent: PolicyDiff[] = [];
  /** The latest policy read. */
  current: PolicySnapshot;
  /** The policy `planned` was built from. */
  private basis: PolicySnapshot;
  private planned: RawIsolationPolicy;

  get strict(): boolean {
    return this.d.strict;
  }

  constructor(
    private readonly d: WriteAttemptsDeps,
    start: PolicySnapshot,
    planned: RawIsolationPolicy,
  ) {
    this.current = start;
    this.basis = start;
    this.planned = planned;
  }

  async run(): Promise<WriteEnd> {
    try {
      for (let round = 1; round <= this.d.maxAttempts; round++) {
        const step = await this.attempt(round);
        if (step.end !== 'again') return step;
      }
      return { end: 'conflict' };
    } catch (error) {
      return { end: 'interrupted', error };
    }
  }

  private async read(): Promise<PolicySnapshot> {
    return snapshotOf(await this.d.isolation.get(this.d.ownTenantId, this.d.call), this.d.ownTenantId);
  }

  private async attempt(round: number): Promise<AttemptEnd> {
    const fresh = await this.read();
    if (fresh.revision !== this.basis.revision) {
      this.concurrent.push(diffPolicies(this.basis.policy, fresh.policy));
      this.current = fresh;
      if (changeIsPresent(fresh.policy, this.d.change)) return { end: 'settled' };
      return this.replanOn(fresh);
    }
    this.puts++;
    this.written = true;
    const put = await this.d.isolation.put(this.d.ownTenantId, this.planned, this.d.call).then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    if (put.ok) {
      this.current = await this.read();
      return this.verify();
    }
    return this.afterFailedPut(put.error, round);
  }

  /** A PUT whose answer was lost may still have landed: look before calling it failed. */
  private async afterFailedPut(putError: unknown, round: number): Promise<AttemptEnd> {
    const kind = classifyPutFailure(putError);
    const look = await this.read().catch(() => null);
    if (!look) {
      return kind === 'notApplied'
        ? { end: 'failed', error: putError }
        : { end: 'unknown', error: putError, why: 'reading the policy afterwards failed too' };
    }
    this.current = look;
    // Landed (maybe with another writer's change beside it): carry on as after a good PUT.
    if (changeIsPresent(look.policy, this.d.change)) return this.verify();
    // Ours is not in the policy now: it never landed, or another writer replaced it.
    this.written = false;
    if (kind === 'mayStillApply') {
      return { end: 'unknown', error: putError, why: 'it got no final answer, so it may still be applied' };
    }
    const waitMs = retryDelayMs(this.puts, retryAfterOf(putError));
    const { deadline, signal } = this.d.call;
    const outOfTime = deadline !== undefined && this.d.clock.now() + waitMs >= deadline;
    if (kind === 'notApplied' || round === this.d.maxAttempts || outOfTime) return { end: 'failed', error: putError };
    if (look.revision !== this.basis.revision) {
      this.concurrent.push(diffPolicies(this.basis.policy, look.policy));
      if (this.d.strict) return { end: 'conflict' };
    }
    // Round again: the next round re-reads, and the change is re-planned on what is there now,
    // never resent as the stale document.
    this.rebaseOn(look);
    await this.d.clock.sleep(waitMs, signal);
    return { end: 'again' };
  }

  private verify(): AttemptEnd {
    const check = checkReadBack(this.planned, this.current.raw, this.d.change, this.d.ownTenantId);
    if (check.verified) return { end: 'settled' };
    this.concurrent.push(check.outsideChanges);
    // Another writer changed other things right after us: our change stands and theirs is kept.
    // This read is the fresh policy a redo would start from, and it already holds the change.
    if (check.changePresent) return { end: 'settled' };
    return this.replanOn(this.current);
  }

  private replanOn(policy: PolicySnapshot): AttemptEnd {
    if (this.d.strict) return { end: 'conflict' };
    this.rebaseOn(policy);
    return { end: 'again' };
  }

  private rebaseOn(policy: PolicySnapshot): void {
    this.basis = policy;
    this.planned = applyChange(policy.raw, this.d.change, this.d.ownTenantId);
  }
}
