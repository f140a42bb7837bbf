// A rollout as it is stored and reported: the request, one row per environment and package, the
// counts, and its own audit events. The status arithmetic lives here so routes, the driver and
// the tests agree on what "PartiallySucceeded" means.

export const ROLLOUT_MODES = ['install', 'update', 'installOrUpdate'] as const;
export type RolloutMode = (typeof ROLLOUT_MODES)[number];

export const ROLLOUT_STATUSES = ['Running', 'Succeeded', 'PartiallySucceeded', 'Failed', 'Canceled'] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

/** Planned: waiting its turn. NotStarted: the rollout was canceled or stopped before its turn. */
export const TARGET_STATUSES = ['Planned', 'Running', 'Succeeded', 'Failed', 'Skipped', 'NotStarted'] as const;
export type TargetStatus = (typeof TARGET_STATUSES)[number];

export const SKIP_REASONS = ['NoDataverse', 'NotOffered', 'AlreadyCurrent', 'NotInstalled', 'AlreadyInstalled', 'NoUpdateAvailable', 'EnvironmentNotFound'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface TargetFilter {
  /** Only environments with Dataverse (packages install into Dataverse). */
  dataverseOnly?: boolean;
  /** Environment types (environmentSku), e.g. Production, Sandbox; any case. */
  types?: string[];
  /** Regions (location), e.g. unitedstates, europe; any case. */
  regions?: string[];
  /** A display-name pattern: `*` matches any run of characters, any case. */
  displayNamePattern?: string;
}

export interface RolloutRequest {
  /** One package, or null for every package with an update available. */
  packageUniqueName: string | null;
  environmentIds: string[] | null;
  filter: TargetFilter | null;
  mode: RolloutMode;
  maxConcurrent: number;
  stopAfterFailures: number | null;
  stopAtFailureRatio: number | null;
  reason: string;
}

export interface RolloutTarget {
  environmentId: string;
  environmentName: string;
  packageUniqueName: string | null;
  fromVersion: string | null;
  toVersion: string | null;
  status: TargetStatus;
  skipReason: SkipReason | null;
  operationId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  error: { code: string; message: string } | null;
  /** Starts put off because upstream was busy or throttling (retried later within the rollout). */
  deferrals: number;
  /** Not before this time (epoch ms) is it tried again after a busy or throttled answer. */
  notBefore?: number;
}

export interface RolloutEvent {
  at: string;
  event: 'rollout.start' | 'rollout.cancel' | 'rollout.stop' | 'rollout.end' | 'rollout.resume';
  caller: string;
  reason: string;
  detail?: string;
}

export interface RolloutCounts {
  total: number;
  planned: number;
  running: number;
  succeeded: number;
  failed: number;
  skipped: number;
  notStarted: number;
}

export interface Rollout {
  rolloutId: string;
  status: RolloutStatus;
  createdAt: string;
  createdBy: string;
  endedAt: string | null;
  request: RolloutRequest;
  cancelRequested: boolean;
  /** Why new starts stopped (the stop rule), when they did. */
  stoppedBecause: string | null;
  targets: RolloutTarget[];
  events: RolloutEvent[];
}

export function countTargets(targets: RolloutTarget[]): RolloutCounts {
  const c: RolloutCounts = { total: targets.length, planned: 0, running: 0, succeeded: 0, failed: 0, skipped: 0, notStarted: 0 };
  for (const t of targets) {
    if (t.status === 'Planned') c.planned++;
    else if (t.status === 'Running') c.running++;
    else if (t.status === 'Succeeded') c.succeeded++;
    else if (t.status === 'Failed') c.failed++;
    else if (t.status === 'Skipped') c.skipped++;
    else c.notStarted++;
  }
  return c;
}

/** Whether the stop rule says: start nothing more. */
export function stopRuleTripped(request: RolloutRequest, targets: RolloutTarget[]): string | null {
  const c = countTargets(targets);
  if (request.stopAfterFailures !== null && c.failed >= request.stopAfterFailures) {
    return `${c.failed} environment(s) failed; the stop rule allows ${request.stopAfterFailures}`;
  }
  const finished = c.succeeded + c.failed;
  // A ratio over one or two results would stop a rollout on its first bad environment; it is judged
  // once as many installs have finished as run at once.
  if (request.stopAtFailureRatio !== null && finished >= Math.min(request.maxConcurrent, c.total - c.skipped) && finished > 0) {
    const ratio = c.failed / finished;
    if (ratio >= request.stopAtFailureRatio) {
      return `${c.failed} of ${finished} finished installs failed (${Math.round(ratio * 100)}%); the stop rule allows under ${Math.round(request.stopAtFailureRatio * 100)}%`;
    }
  }
  return null;
}

/** The final status once nothing is planned or running any more. */
export function finalStatus(r: Pick<Rollout, 'cancelRequested' | 'targets'>): RolloutStatus {
  if (r.cancelRequested) return 'Canceled';
  const c = countTargets(r.targets);
  if (c.failed === 0 && c.notStarted === 0) return 'Succeeded';
  return c.succeeded > 0 ? 'PartiallySucceeded' : 'Failed';
}

export function isActive(t: RolloutTarget): boolean {
  return t.status === 'Planned' || t.status === 'Running';
}
