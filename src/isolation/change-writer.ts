// Longer than most files: every way a write can end (no-op, dry run, conflict, unknown outcome,
// success) is decided here in order, next to the audit record it leaves; split, a reader would
// lose the guarantee that each path writes its completion exactly once.
// One isolation change, start to finish, inside the per-tenant lock: read a PolicySnapshot, plan
// the change on it, answer no-ops and dry runs without writing, make the audit intent durable,
// then run the write attempts (write-attempts.ts) and turn how they ended into an audit
// completion and an answer (or an error that says what is known).
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { RelayError } from '../errors.js';
import type { AuditOutcome, AuditRecord, AuditStore } from '../state/audit-store.js';
import type { TenantLock } from '../state/tenant-lock.js';
import { UpstreamError } from '../upstream/errors.js';
import type { CallContext, IsolationClient } from '../upstream/types.js';
import {
  applyChange,
  describeDiff,
  diffIsEmpty,
  diffPolicies,
  type IsolationChange,
  mergeDiffs,
  type PolicyDiff,
  validateChange,
} from './change.js';
import { type IsolationPolicy, normalisePolicy } from './policy.js';
import { snapshotOf } from './policy-snapshot.js';
import { WriteAttempts } from './write-attempts.js';

/** One try plus three redos on a fresh policy. */
export const MAX_WRITE_ATTEMPTS = 4;

export interface ChangeWriterDeps {
  isolation: IsolationClient;
  auditStore: AuditStore;
  lock: TenantLock;
  clock: Clock;
  newChangeId?: () => string;
  maxAttempts?: number;
  /** Told the outcome of every write (metrics). */
  onOutcome?: (action: IsolationChange['action'], outcome: AuditOutcome) => void;
  /** Told when an audit record could not be written (a completion that fails leaves the intent reading "unknown"). */
  onAuditError?: (err: Error, changeId: string) => void;
}

export interface WriteContext {
  call: CallContext;
  /** callerLabel(request.caller), recorded in the audit trail. */
  actor: string;
}

export interface WriteOptions {
  dryRun?: boolean;
  reason?: string | null;
  /** Compare-and-swap: refuse with 412 unless the policy is still at this revision. */
  ifRevision?: string | null;
}

/** The answer of every write, plus how many attempts it took and what others changed meanwhile. */
export interface WriteResult {
  applied: boolean;
  dryRun: boolean;
  changed: boolean;
  diff: PolicyDiff;
  policy: IsolationPolicy;
  revisionBefore: string;
  revisionAfter: string;
  verified: boolean;
  changeId: string;
  attempts: number;
  /** What another writer changed while this write ran (kept, not overwritten); null when nobody did. */
  concurrentChanges: PolicyDiff | null;
}

/** A whole-policy replace or an exact desired set: rules go that the caller did not name, so
 *  removals need confirming and a redo on a policy another writer moved would undo their change. */
function removesUnnamedRules(change: IsolationChange): boolean {
  return change.action === 'replacePolicy' || (change.action === 'ensurePolicy' && change.desired.exact !== undefined);
}

function upstreamStatusOf(err: unknown): { upstreamStatus?: number } {
  return err instanceof UpstreamError && err.status !== undefined ? { upstreamStatus: err.status } : {};
}

export class ChangeWriter {
  private readonly newChangeId: () => string;
  private readonly maxAttempts: number;

  constructor(private readonly deps: ChangeWriterDeps) {
    this.newChangeId = deps.newChangeId ?? randomUUID;
    this.maxAttempts = deps.maxAttempts ?? MAX_WRITE_ATTEMPTS;
  }

  private async audited(writeRecord: () => Promise<void>, changeId: string): Promise<void> {
    try {
      await writeRecord();
    } catch (err) {
      this.deps.onAuditError?.(err as Error, changeId);
      throw new RelayError(
        503,
        'AuditUnavailable',
        'The audit trail could not be written, so the change was not sent upstream and nothing was changed; the relay log says why. Check AUDIT_STORE (disk space, permissions) and retry.',
        { retryAfter: 30 },
      );
    }
  }

  /** A PUT that may or may not be in the policy: the intent stays "unknown" (the truth as far as the
   *  relay can tell) and the caller is told to read the policy before deciding anything. */
  private outcomeUnknown(
    change: IsolationChange,
    changeId: string,
    putError: unknown,
    why: string,
  ): RelayError {
    this.deps.onOutcome?.(change.action, 'unknown');
    return new RelayError(
      504,
      'IsolationOutcomeUnknown',
      `The tenant isolation policy update was sent, but whether it was applied is unknown: ${(putError as Error).message} (and ${why}). Read the policy with GetIsolationPolicy to see whether the change is in place before retrying; the audit record ${changeId} stays "unknown".`,
      { retryAfter: 30, details: { changeId }, ...upstreamStatusOf(putError) },
    );
  }

  /** One change, start to finish, for the tenant `own` (the relay's own tenant). */
  async write(
    own: string,
    change: IsolationChange,
    options: WriteOptions,
    ctx: WriteContext,
    ruleTenantId: string | null,
    confirmRemovals = false,
  ): Promise<WriteResult> {
    const { isolation, auditStore, lock, clock } = this.deps;
    validateChange(change, own);
    const dryRun = options.dryRun === true;

    return lock.withLock(own, async () => {
      const start = snapshotOf(await isolation.get(own, ctx.call), own);
      const before = start.policy;
      if (options.ifRevision && options.ifRevision !== start.revision) {
        throw new RelayError(
          412,
          'RevisionMismatch',
          `The tenant isolation policy changed since revision ${options.ifRevision} (it is now at ${before.revision}); read it again with GetIsolationPolicy, check the change still makes sense, and retry with the new revision.`,
          { target: 'ifRevision', details: { currentRevision: before.revision } },
        );
      }
      const planned = applyChange(start.raw, change, own);
      const plannedPolicy = normalisePolicy(planned, own);
      const diff = diffPolicies(before, plannedPolicy);
      const changeId = this.newChangeId();
      const base: AuditRecord = {
        changeId,
        at: new Date(clock.now()).toISOString(),
        actor: ctx.actor,
        action: change.action,
        reason: options.reason?.trim() || null,
        dryRun,
        tenantId: own,
        ruleTenantId,
        before,
        after: plannedPolicy,
        diff,
        correlationId: ctx.call.correlationId,
        outcome: 'unknown',
        verified: null,
        completedAt: null,
        error: null,
      };
      const answer = (over: Partial<WriteResult> & Pick<WriteResult, 'policy'>): WriteResult => ({
        applied: false,
        dryRun,
        changed: true,
        diff,
        revisionBefore: before.revision,
        revisionAfter: over.policy.revision,
        verified: false,
        changeId,
        attempts: 0,
        concurrentChanges: null,
        ...over,
      });

      if (diffIsEmpty(diff)) {
        await this.audited(
          () =>
            auditStore.record({
              ...base,
              after: before,
              outcome: 'noChange',
              verified: true,
              completedAt: base.at,
            }),
          changeId,
        );
        this.deps.onOutcome?.(change.action, 'noChange');
        // The policy as read already says what was asked: nothing to write, nothing to doubt.
        return answer({ changed: false, policy: before, verified: true });
      }
      if (removesUnnamedRules(change) && diff.removed.length > 0 && !confirmRemovals && !dryRun) {
        throw new RelayError(
          409,
          'RemovalsNotConfirmed',
          `${change.action === 'ensurePolicy' ? 'Ensuring the exact rule set' : 'Replacing the policy'} would remove ${diff.removed.length} existing rule(s): ${diff.removed.map((r) => r.tenantId).join(', ')}. Nothing was changed; send confirmRemovals: true to remove them, or include them in rules to keep them.`,
          { target: 'confirmRemovals', details: { wouldRemove: diff.removed, revision: before.revision } },
        );
      }
      if (dryRun) {
        await this.audited(
          () => auditStore.record({ ...base, outcome: 'dryRun', completedAt: base.at }),
          changeId,
        );
        this.deps.onOutcome?.(change.action, 'dryRun');
        return answer({ policy: plannedPolicy });
      }

      // The intent is durable before upstream hears of the change: a crash from here on leaves an
      // "unknown" record rather than nothing.
      await this.audited(() => auditStore.begin(base), changeId);
      const attempts = new WriteAttempts(
        {
          isolation,
          clock,
          ownTenantId: own,
          change,
          call: ctx.call,
          // A whole-policy replace redone on a fresh policy would undo the other writer's change,
          // and a compare-and-swap caller asked not to build on a policy they have not seen.
          strict: removesUnnamedRules(change) || Boolean(options.ifRevision),
          maxAttempts: this.maxAttempts,
        },
        start,
        planned,
      );
      const ended = await attempts.run();
      const finish = (outcome: 'applied' | 'noChange' | 'failed' | 'conflict', verified: boolean, error: string | null) =>
        this.complete(change, changeId, outcome, attempts.current.policy, verified, error);

      switch (ended.end) {
        case 'settled': {
          const policy = attempts.current.policy;
          const concurrentChanges = mergeDiffs(attempts.concurrent);
          if (attempts.puts === 0) {
            // Someone else made the same change before we wrote anything.
            await finish('noChange', true, null);
            return answer({ changed: false, policy, verified: true, attempts: 0, concurrentChanges });
          }
          await finish('applied', true, null);
          return answer({ applied: true, policy, verified: true, attempts: attempts.puts, concurrentChanges });
        }
        case 'conflict': {
          const message = this.conflictMessage(attempts);
          await finish('conflict', false, message);
          throw new RelayError(409, 'ConcurrentPolicyChange', message, {
            details: {
              changeId,
              attempts: attempts.puts,
              written: attempts.written,
              currentRevision: attempts.current.revision,
              concurrentChanges: attempts.concurrent,
            },
          });
        }
        case 'failed':
          await finish('failed', false, (ended.error as Error).message);
          throw ended.error;
        case 'unknown':
          // No completion: the intent stays "unknown", the truth as far as the relay can tell.
          throw this.outcomeUnknown(change, changeId, ended.error, ended.why);
        case 'interrupted': {
          // Upstream failed somewhere after the intent: say what we know instead of leaving
          // "unknown". A PUT upstream accepted stands even when the read-back then failed.
          const reason = (ended.error as Error).message;
          await finish(attempts.written ? 'applied' : 'failed', false, attempts.written ? `Written, but not verified: ${reason}` : reason);
          throw ended.error;
        }
      }
    });
  }

  /** Records how a change that reached upstream ended. Upstream already has the change (or refused
   *  it); a completion we cannot write leaves the intent reading "unknown", which is the truth as
   *  far as the trail can tell. */
  private async complete(
    change: IsolationChange,
    changeId: string,
    outcome: 'applied' | 'noChange' | 'failed' | 'conflict',
    after: IsolationPolicy,
    verified: boolean,
    error: string | null,
  ): Promise<void> {
    this.deps.onOutcome?.(change.action, outcome);
    await this.deps.auditStore
      .complete(changeId, { outcome, completedAt: new Date(this.deps.clock.now()).toISOString(), after, verified, error })
      .catch((err: unknown) => this.deps.onAuditError?.(err as Error, changeId));
  }

  private conflictMessage(attempts: WriteAttempts): string {
    const strictWrite = attempts.strict;
    const revision = attempts.current.revision;
    const what = attempts.concurrent.map(describeDiff).join('; then ');
    if (!strictWrite) {
      return `Another writer kept changing the tenant isolation policy while this change was written (${what}); after ${this.maxAttempts} attempts the change is not in place. Read the policy (now at revision ${revision}) and retry, or find the other tool that is writing it.`;
    }
    return attempts.puts > 0
      ? `Another writer changed the tenant isolation policy right after this change was written (${what}), so it is no longer what you sent. Nothing was redone; read the policy (now at revision ${revision}) and try again if needed.`
      : `Another writer changed the tenant isolation policy while this change was being prepared (${what}); nothing was written. Read the policy (now at revision ${revision}) and try again if the change still makes sense.`;
  }
}
