// The isolation policy operations. Upstream only offers a full-replace PUT with no ETag, so every
// write is a read-modify-write inside the per-tenant lock: read → apply the one change → (no-op:
// stop, no PUT) → audit intent → PUT → read back → verify. When the read-back shows that another
// writer moved the policy, the one change is redone on the fresh policy (never the stale one, so
// their change is kept), a bounded number of times, then the caller gets a 409 saying what happened.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import {
  applyChange,
  changeIsPresent,
  checkReadBack,
  type DesiredRule,
  diffIsEmpty,
  diffPolicies,
  type IsolationChange,
  type PolicyDiff,
  validateChange,
} from './change.js';
import {
  type IsolationPolicy,
  normalisePolicy,
  policyRevision,
  tenantKey,
  type WritableDirection,
} from './policy.js';
import { parseTenantIdentifier } from './tenant-id.js';
import { RelayError } from '../errors.js';
import { retryDelayMs } from '../upstream/backoff.js';
import { UpstreamError } from '../upstream/errors.js';
import type {
  CallContext,
  IsolationClient,
  RawIsolationPolicy,
  TenantClient,
  TenantDiscovery,
} from '../upstream/types.js';
import type { AuditOutcome, AuditPage, AuditQuery, AuditRecord, AuditStore } from '../state/audit-store.js';
import { classifyPutFailure, retryAfterOf } from './put-failure.js';
import type { TenantLock } from '../state/tenant-lock.js';

/** One try plus three redos on a fresh policy. */
export const MAX_WRITE_ATTEMPTS = 4;

export interface IsolationServiceDeps {
  isolation: IsolationClient;
  tenant: TenantClient;
  tenantDiscovery: TenantDiscovery;
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

export interface RuleInput {
  /** GUID, `*` or a domain. */
  tenant: string;
  direction: WritableDirection;
}

/** The answer of every write (DESIGN 3.2), plus how many attempts it took and what others changed meanwhile. */
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

function upstreamStatusOf(err: unknown): { upstreamStatus?: number } {
  return err instanceof UpstreamError && err.status !== undefined ? { upstreamStatus: err.status } : {};
}

function mergeDiffs(diffs: PolicyDiff[]): PolicyDiff | null {
  if (diffs.length === 0) return null;
  return {
    added: diffs.flatMap((d) => d.added),
    removed: diffs.flatMap((d) => d.removed),
    changed: diffs.flatMap((d) => d.changed),
    enabledBefore: diffs[0]!.enabledBefore,
    enabledAfter: diffs.at(-1)!.enabledAfter,
  };
}

function describeDiff(d: PolicyDiff): string {
  const parts = [
    ...d.added.map((r) => `added ${r.tenantId} (${r.direction})`),
    ...d.removed.map((r) => `removed ${r.tenantId}`),
    ...d.changed.map((c) => `changed ${c.tenantId} from ${c.directionBefore} to ${c.directionAfter}`),
    ...(d.enabledBefore !== d.enabledAfter ? [`turned isolation ${d.enabledAfter ? 'on' : 'off'}`] : []),
  ];
  return parts.length ? parts.join(', ') : 'rewrote the policy';
}

export class IsolationService {
  private readonly newChangeId: () => string;
  private readonly maxAttempts: number;

  constructor(private readonly deps: IsolationServiceDeps) {
    this.newChangeId = deps.newChangeId ?? randomUUID;
    this.maxAttempts = deps.maxAttempts ?? MAX_WRITE_ATTEMPTS;
  }

  private async ownTenantId(call: CallContext): Promise<string> {
    return tenantKey(await this.deps.tenant.getOwnTenantId(call));
  }

  async getPolicy(call: CallContext): Promise<IsolationPolicy> {
    const own = await this.ownTenantId(call);
    return normalisePolicy(await this.deps.isolation.get(own, call), own);
  }

  listChanges(query: AuditQuery): Promise<AuditPage> {
    return this.deps.auditStore.list(query);
  }

  /** GUID or `*` as typed; a domain resolved through Entra discovery; anything else → 400. */
  async resolveTenant(input: string, target: string, call: CallContext): Promise<string> {
    const id = parseTenantIdentifier(input, target);
    if (id.kind !== 'domain') return id.tenantId;
    const resolved = await this.deps.tenantDiscovery.resolveDomain(id.domain, call);
    if (!resolved) {
      throw new RelayError(
        400,
        'UnknownTenantDomain',
        `Entra ID does not know the domain "${id.domain}", so it cannot be turned into a tenant id; check the spelling (it must be a verified domain of that tenant, such as contoso.onmicrosoft.com) or use the tenant id (GUID).`,
        { target },
      );
    }
    return tenantKey(resolved);
  }

  async upsertRule(rule: RuleInput, options: WriteOptions, ctx: WriteContext): Promise<WriteResult> {
    const tenantId = await this.resolveTenant(rule.tenant, 'tenant', ctx.call);
    return this.write(
      { action: 'upsertRule', rule: { tenantId, direction: rule.direction } },
      options,
      ctx,
      tenantId,
    );
  }

  async removeRule(tenant: string, options: WriteOptions, ctx: WriteContext): Promise<WriteResult> {
    const tenantId = await this.resolveTenant(tenant, 'tenant', ctx.call);
    return this.write({ action: 'removeRule', tenantId }, options, ctx, tenantId);
  }

  setEnabled(enabled: boolean, options: WriteOptions, ctx: WriteContext): Promise<WriteResult> {
    return this.write({ action: 'setEnabled', enabled }, options, ctx, null);
  }

  async replacePolicy(
    policy: { enabled: boolean; rules: RuleInput[] },
    options: WriteOptions & { confirmRemovals?: boolean },
    ctx: WriteContext,
  ): Promise<WriteResult> {
    const rules: DesiredRule[] = [];
    for (const [i, r] of policy.rules.entries()) {
      rules.push({
        tenantId: await this.resolveTenant(r.tenant, `body.rules.${i}.tenant`, ctx.call),
        direction: r.direction,
      });
    }
    return this.write(
      { action: 'replacePolicy', enabled: policy.enabled, rules },
      options,
      ctx,
      null,
      options.confirmRemovals === true,
    );
  }

  /** Runs an audit write that must succeed before the change goes further (nothing is sent upstream
   *  without its record); a failure is a 503 the caller can retry, never a 500. */
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

  private async write(
    change: IsolationChange,
    options: WriteOptions,
    ctx: WriteContext,
    ruleTenantId: string | null,
    confirmRemovals = false,
  ): Promise<WriteResult> {
    const { isolation, auditStore, lock, clock } = this.deps;
    const own = await this.ownTenantId(ctx.call);
    validateChange(change, own);
    const dryRun = options.dryRun === true;

    return lock.withLock(own, async () => {
      const raw = await isolation.get(own, ctx.call);
      const before = normalisePolicy(raw, own);
      if (options.ifRevision && options.ifRevision !== before.revision) {
        throw new RelayError(
          412,
          'RevisionMismatch',
          `The tenant isolation policy changed since revision ${options.ifRevision} (it is now at ${before.revision}); read it again with GetIsolationPolicy, check the change still makes sense, and retry with the new revision.`,
          { target: 'ifRevision', details: { currentRevision: before.revision } },
        );
      }
      let planned = applyChange(raw, change, own);
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
      if (change.action === 'replacePolicy' && diff.removed.length > 0 && !confirmRemovals && !dryRun) {
        throw new RelayError(
          409,
          'RemovalsNotConfirmed',
          `Replacing the policy would remove ${diff.removed.length} existing rule(s): ${diff.removed.map((r) => r.tenantId).join(', ')}. Nothing was changed; send confirmRemovals: true to remove them, or include them in rules to keep them.`,
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
      const concurrent: PolicyDiff[] = [];
      let completed = false;
      const finish = async (
        outcome: 'applied' | 'noChange' | 'failed' | 'conflict',
        after: RawIsolationPolicy | null,
        verified: boolean,
        error: string | null,
      ) => {
        completed = true;
        this.deps.onOutcome?.(change.action, outcome);
        // Upstream already has the change (or refused it); a completion we cannot write leaves the
        // intent reading "unknown", which is the truth as far as the trail can tell.
        await auditStore
          .complete(changeId, {
            outcome,
            completedAt: new Date(clock.now()).toISOString(),
            after: normalisePolicy(after, own),
            verified,
            error,
          })
          .catch((err: unknown) => this.deps.onAuditError?.(err as Error, changeId));
      };
      // A whole-policy replace redone on a fresh policy would undo the other writer's change, and a
      // compare-and-swap caller asked not to build on a policy they have not seen: neither is redone.
      const strict = change.action === 'replacePolicy' || Boolean(options.ifRevision);
      let basis = raw; // the policy `planned` was built from
      let current = raw;
      let puts = 0;
      let written = false; // whether a PUT of ours is (or may be) in the policy now

      const settled = async (policyRaw: RawIsolationPolicy | null) => {
        const policy = normalisePolicy(policyRaw, own);
        const concurrentChanges = mergeDiffs(concurrent);
        if (puts === 0) {
          // Someone else made the same change before we wrote anything.
          await finish('noChange', policyRaw, true, null);
          return answer({ changed: false, policy, verified: true, attempts: 0, concurrentChanges });
        }
        await finish('applied', policyRaw, true, null);
        return answer({ applied: true, policy, verified: true, attempts: puts, concurrentChanges });
      };

      try {
        for (let round = 1; round <= this.maxAttempts; round++) {
          // Just before the PUT, make sure the policy is still the one the change was built on: a
          // full replace would otherwise silently undo what another writer did in between.
          const fresh = await isolation.get(own, ctx.call);
          if (policyRevision(fresh) !== policyRevision(basis)) {
            concurrent.push(diffPolicies(normalisePolicy(basis, own), normalisePolicy(fresh, own)));
            current = fresh;
            if (changeIsPresent(normalisePolicy(fresh, own), change)) return settled(fresh);
            if (strict) break;
            basis = fresh;
            planned = applyChange(fresh, change, own);
            continue;
          }
          puts++;
          written = true;
          let putError: unknown;
          try {
            await isolation.put(own, planned, ctx.call);
          } catch (err) {
            putError = err;
          }
          if (putError === undefined) {
            current = await isolation.get(own, ctx.call);
          } else {
            // A PUT whose answer was lost may still have landed: look before calling it failed.
            const kind = classifyPutFailure(putError);
            const look = await isolation.get(own, ctx.call).then(
              (policy) => ({ policy }),
              () => null,
            );
            if (!look) {
              if (kind === 'notApplied') {
                await finish('failed', current, false, (putError as Error).message);
                throw putError;
              }
              completed = true;
              throw this.outcomeUnknown(
                change,
                changeId,
                putError,
                'reading the policy afterwards failed too',
              );
            }
            current = look.policy;
            // Landed (maybe with another writer's change beside it): carry on as after a good PUT.
            const landed = changeIsPresent(normalisePolicy(current, own), change);
            if (!landed) {
              // Ours is not in the policy now: it never landed, or another writer replaced it.
              written = false;
              if (kind === 'mayStillApply') {
                completed = true;
                throw this.outcomeUnknown(
                  change,
                  changeId,
                  putError,
                  'it got no final answer, so it may still be applied',
                );
              }
              const waitMs = retryDelayMs(puts, retryAfterOf(putError));
              const outOfTime = ctx.call.deadline !== undefined && clock.now() + waitMs >= ctx.call.deadline;
              if (kind === 'notApplied' || round === this.maxAttempts || outOfTime) {
                await finish('failed', current, false, (putError as Error).message);
                throw putError;
              }
              if (policyRevision(current) !== policyRevision(basis)) {
                concurrent.push(diffPolicies(normalisePolicy(basis, own), normalisePolicy(current, own)));
                if (strict) break;
              }
              // Round again: the next round re-reads, and the change is re-planned on what is
              // there now, never resent as the stale document.
              basis = current;
              planned = applyChange(current, change, own);
              await clock.sleep(waitMs, ctx.call.signal);
              continue;
            }
          }
          const check = checkReadBack(planned, current, change, own);
          if (check.verified) return settled(current);
          concurrent.push(check.outsideChanges);
          // Another writer changed other things right after us: our change stands and theirs is
          // kept. This read is the fresh policy a redo would start from, and it already holds the
          // change, so the redo is a no-op.
          if (check.changePresent) return settled(current);
          if (strict) break;
          basis = current;
          planned = applyChange(current, change, own);
        }

        const policy = normalisePolicy(current, own);
        const what = concurrent.map(describeDiff).join('; then ');
        const message = !strict
          ? `Another writer kept changing the tenant isolation policy while this change was written (${what}); after ${this.maxAttempts} attempts the change is not in place. Read the policy (now at revision ${policy.revision}) and retry, or find the other tool that is writing it.`
          : puts > 0
            ? `Another writer changed the tenant isolation policy right after this change was written (${what}), so it is no longer what you sent. Nothing was redone; read the policy (now at revision ${policy.revision}) and try again if needed.`
            : `Another writer changed the tenant isolation policy while this change was being prepared (${what}); nothing was written. Read the policy (now at revision ${policy.revision}) and try again if the change still makes sense.`;
        await finish('conflict', current, false, message);
        throw new RelayError(409, 'ConcurrentPolicyChange', message, {
          details: {
            changeId,
            attempts: puts,
            written,
            currentRevision: policy.revision,
            concurrentChanges: concurrent,
          },
        });
      } catch (err) {
        // Upstream failed somewhere after the intent: say what we know instead of leaving "unknown".
        // A PUT upstream accepted stands even when the read-back then failed.
        if (!completed) {
          const reason = (err as Error).message;
          await finish(
            written ? 'applied' : 'failed',
            current,
            false,
            written ? `Written, but not verified: ${reason}` : reason,
          );
        }
        throw err;
      }
    });
  }
}
