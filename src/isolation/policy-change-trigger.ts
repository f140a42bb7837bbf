// "When the tenant isolation policy changes": one poll reads the policy once, compares its revision
// with the cursor's, and only on a difference turns the gap into items. The relay's own applied
// writes in the gap (from the audit trail) each become an item with their actor and reason, in the
// order they chained; whatever moved the policy between them, or after the last, is one item
// "outside the relay" per stretch. The previous policy comes from the snapshot store, so a
// restarted relay or another replica carries on from the same cursor.
import type { Clock } from '../clock.js';
import { RelayError } from '../errors.js';
import type { AuditRecord, AuditStore } from '../state/audit-store.js';
import type { TriggerSnapshotStore } from '../state/trigger-snapshots.js';
import type { CallContext, IsolationClient } from '../upstream/types.js';
import { diffIsEmpty, diffPolicies, type PolicyDiff } from './change.js';
import { type IsolationPolicy, normalisePolicy } from './policy.js';
import type { TriggerCursor } from './trigger-cursor.js';

export const OUTSIDE_THE_RELAY = 'outside the relay';

export interface PolicyChangeItem {
  diff: PolicyDiff;
  revisionBefore: string;
  revisionAfter: string;
  seenAt: string;
  madeBy: 'relay' | typeof OUTSIDE_THE_RELAY;
  actor: string | null;
  reason: string | null;
  changeId: string | null;
  changedAt: string | null;
}

export type TriggerPoll =
  | { kind: 'baseline' | 'unchanged'; cursor: TriggerCursor }
  | { kind: 'changed'; cursor: TriggerCursor; items: PolicyChangeItem[] };

export interface PolicyChangeTriggerDeps {
  isolation: IsolationClient;
  auditStore: AuditStore;
  snapshots: TriggerSnapshotStore;
  clock: Clock;
}

/** A write's record is stamped when it starts and completed after its read-back, which may take a
 *  while behind the tenant lock: search starts this far before the previous read, and only writes
 *  completed after that read count (an earlier completion was in what that read saw). */
const AUDIT_LOOKBACK_MS = 5 * 60_000;
const AUDIT_PAGE = 200;

export class PolicyChangeTrigger {
  constructor(private readonly deps: PolicyChangeTriggerDeps) {}

  async poll(own: string, cursor: TriggerCursor | null, call: CallContext): Promise<TriggerPoll> {
    const readAt = this.deps.clock.now();
    const current = normalisePolicy(await this.deps.isolation.get(own, call), own);
    const next = { revision: current.revision, readAt };
    if (!cursor) {
      await this.deps.snapshots.save(current.revision, current);
      return { kind: 'baseline', cursor: next };
    }
    if (cursor.revision === current.revision) return { kind: 'unchanged', cursor: { ...cursor, readAt } };
    const previous = (await this.deps.snapshots.load(cursor.revision)) as IsolationPolicy | null;
    if (!previous) {
      throw new RelayError(
        409,
        'TriggerBaselineLost',
        `The policy this trigger last saw (revision ${cursor.revision}) is no longer in the relay's state store, so the changes since cannot be told apart. Turn the flow off and on again to start from the current policy.`,
        { target: 'querystring.cursor' },
      );
    }
    await this.deps.snapshots.save(current.revision, current);
    const relayWrites = await this.relayWritesCompletedSince(cursor.readAt);
    const items = chainItems(previous, current, relayWrites, new Date(readAt).toISOString());
    return items.length ? { kind: 'changed', cursor: next, items } : { kind: 'unchanged', cursor: next };
  }

  /** Applied relay writes completed at or after `since`, oldest first. */
  private async relayWritesCompletedSince(since: number): Promise<AuditRecord[]> {
    const from = since - AUDIT_LOOKBACK_MS;
    const found: AuditRecord[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.deps.auditStore.list({
        pageSize: AUDIT_PAGE,
        from: new Date(from).toISOString(),
        ...(continuationToken ? { continuationToken } : {}),
      });
      found.push(
        ...page.items.filter(
          (r) =>
            r.outcome === 'applied' && !r.dryRun && r.before && r.after && Date.parse(r.completedAt ?? r.at) >= since,
        ),
      );
      continuationToken = page.continuationToken ?? undefined;
    } while (continuationToken);
    return found.sort((a, b) => (a.completedAt ?? a.at).localeCompare(b.completedAt ?? b.at));
  }
}

function outsideItem(before: IsolationPolicy, after: IsolationPolicy, seenAt: string): PolicyChangeItem | null {
  const diff = diffPolicies(before, after);
  if (diffIsEmpty(diff) && before.revision === after.revision) return null;
  return {
    diff,
    revisionBefore: before.revision,
    revisionAfter: after.revision,
    seenAt,
    madeBy: OUTSIDE_THE_RELAY,
    actor: null,
    reason: null,
    changeId: null,
    changedAt: null,
  };
}

/** Walks from the previous policy to the current one through the relay's writes that chain on. */
export function chainItems(
  previous: IsolationPolicy,
  current: IsolationPolicy,
  relayWrites: AuditRecord[],
  seenAt: string,
): PolicyChangeItem[] {
  const items: PolicyChangeItem[] = [];
  let at = previous;
  const seen = new Set<string>([previous.revision]);
  for (const write of relayWrites) {
    const before = write.before!;
    const after = write.after!;
    // Already part of what the previous poll saw (or of what this walk passed).
    if (seen.has(after.revision)) continue;
    if (before.revision !== at.revision) {
      const outside = outsideItem(at, before, seenAt);
      if (outside) items.push(outside);
    }
    items.push({
      diff: write.diff && !diffIsEmpty(write.diff) ? write.diff : diffPolicies(before, after),
      revisionBefore: before.revision,
      revisionAfter: after.revision,
      seenAt,
      madeBy: 'relay',
      actor: write.actor,
      reason: write.reason,
      changeId: write.changeId,
      changedAt: write.completedAt ?? write.at,
    });
    seen.add(after.revision);
    at = after;
  }
  if (at.revision !== current.revision) {
    const outside = outsideItem(at, current, seenAt);
    if (outside) items.push(outside);
  }
  return items;
}
