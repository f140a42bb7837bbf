// A rollout as the API answers it: flat rows a flow can put in a table, counts and a one-line summary.
import { countTargets, type Rollout, type RolloutStatus } from './rollout-model.js';

export function rolloutView(r: Rollout, dryRun = false) {
  const counts = countTargets(r.targets);
  return {
    rolloutId: dryRun ? null : r.rolloutId,
    status: r.status as RolloutStatus,
    dryRun,
    packageUniqueName: r.request.packageUniqueName,
    mode: r.request.mode,
    reason: r.request.reason,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    endedAt: r.endedAt,
    cancelRequested: r.cancelRequested,
    stoppedBecause: r.stoppedBecause,
    counts,
    summary: `${dryRun ? 'Plan' : `Rollout ${r.status}`}: ${counts.succeeded} succeeded, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.notStarted} not started, ${counts.planned + counts.running} to do, of ${counts.total}.`,
    environments: r.targets.map((t) => ({
      environmentId: t.environmentId,
      environmentName: t.environmentName,
      packageUniqueName: t.packageUniqueName,
      fromVersion: t.fromVersion,
      toVersion: t.toVersion,
      status: t.status,
      skipReason: t.skipReason,
      operationId: t.operationId,
      startedAt: t.startedAt,
      finishedAt: t.finishedAt,
      error: t.error?.message ?? null,
      errorCode: t.error?.code ?? null,
      deferrals: t.deferrals,
    })),
  };
}
