// The install state machine as the relay reports it: upstream's operation statuses, nothing else.
// The relay's own install deadline (INSTALL_DEADLINE_MINUTES) is its patience for a wait it holds,
// not a fact about the install, so it never shows as a status: a wait it ends says so in
// `waitTimedOut`, beside the status upstream still reports.
import type { OperationSnapshot, OperationStatus, RawApplicationPackage } from '../upstream/types.js';
import { compareVersions, normaliseError, type PackageError } from './package-model.js';

export type InstallStatus = OperationStatus;
export const INSTALL_STATUSES = ['NotStarted', 'Running', 'Succeeded', 'Failed', 'Canceled'] as const;


export function isTerminal(status: InstallStatus): boolean {
  return status === 'Succeeded' || status === 'Failed' || status === 'Canceled';
}

export function isFailure(status: InstallStatus): boolean {
  return status === 'Failed' || status === 'Canceled';
}

/** A wait on this install is over: the install ended, or the relay's deadline ended the wait. */
export function endsWait(r: { status: InstallStatus; waitTimedOut?: boolean }): boolean {
  return isTerminal(r.status) || r.waitTimedOut === true;
}

/** What the relay knows about one install at one moment. */
export interface InstallProgress {
  operationId: string;
  status: InstallStatus;
  startedAt: string | null;
  /** When upstream last acted; the completion time once terminal. */
  lastActionAt: string | null;
  statusMessage: string | null;
  error: PackageError | null;
  /** Seconds upstream asked us to wait before asking again. */
  upstreamRetryAfter?: number;
  /** The relay's install deadline ended a wait on this install before it ended upstream. */
  waitTimedOut?: boolean;
}

export function progressFromOperation(s: OperationSnapshot): InstallProgress {
  return {
    operationId: s.operationId,
    status: s.status,
    startedAt: s.createdDateTime ?? null,
    lastActionAt: s.lastActionDateTime ?? null,
    statusMessage: s.statusMessage || null,
    error: normaliseError(s.error),
    upstreamRetryAfter: s.retryAfterSeconds,
  };
}

/**
 * An install followed through the package list instead of an operation (see
 * PACKAGE_STATE_OPERATION_ID). In-progress states are Running; Installed is Succeeded;
 * InstallFailed is Failed; a package that went back to not installed without a failure is
 * Canceled (nothing is running any more and nothing was installed).
 */
export function progressFromPackageState(
  entries: RawApplicationPackage[],
  operationId: string,
  nowIso: string,
  /** The version being installed; an older version still installed afterwards means the update did not happen. */
  expectedVersion?: string | null,
): InstallProgress {
  const state = pickState(entries);
  const failed = entries.find((e) => e.state === 'InstallFailed');
  const base = { operationId, startedAt: null, lastActionAt: nowIso, statusMessage: null, error: null };
  if (state === 'Installed') {
    const installed = entries.find((e) => e.state === 'Installed');
    if (expectedVersion && compareVersions(installed?.version, expectedVersion) < 0) {
      return {
        ...base,
        status: 'Canceled',
        statusMessage: `The install ended without installing version ${expectedVersion}; version ${installed?.version ?? '(unknown)'} is still installed.`,
      };
    }
    return { ...base, status: 'Succeeded', statusMessage: 'The package is installed.' };
  }
  if (failed)
    return {
      ...base,
      status: 'Failed',
      statusMessage: 'The install failed.',
      error: normaliseError(failed.errorDetails ?? failed.lastError),
    };
  if (state === 'Running') return { ...base, status: 'Running', lastActionAt: null };
  return { ...base, status: 'Canceled', statusMessage: 'Upstream no longer shows an install of this package in progress.' };
}

function pickState(entries: RawApplicationPackage[]): 'Installed' | 'Running' | 'Other' {
  if (entries.some((e) => e.state && ['InstallRequested', 'Installing', 'InstallScheduled', 'InstallRetrying'].includes(e.state)))
    return 'Running';
  if (entries.some((e) => e.state === 'Installed')) return 'Installed';
  return 'Other';
}

/** The single 200 shape of InstallPackage, GetInstallStatus and the wait endpoint. */
export interface InstallResult {
  operationId: string | null;
  environmentId: string;
  packageUniqueName: string | null;
  packageVersion: string | null;
  status: InstallStatus;
  alreadyInstalled: boolean;
  startedAt: string | null;
  completedAt: string | null;
  durationSeconds: number | null;
  statusMessage: string | null;
  error: PackageError | null;
  /** True when the relay stopped waiting (INSTALL_DEADLINE_MINUTES) while the install still ran. */
  waitTimedOut: boolean;
}

export function installResult(
  p: InstallProgress,
  ids: { environmentId: string; packageUniqueName: string | null; packageVersion: string | null; startedAt?: string | null },
): InstallResult {
  const startedAt = p.startedAt ?? ids.startedAt ?? null;
  const completedAt = isTerminal(p.status) ? p.lastActionAt : null;
  const start = startedAt ? Date.parse(startedAt) : Number.NaN;
  const end = completedAt ? Date.parse(completedAt) : Number.NaN;
  return {
    // The all-zero id is kept (not null) so GetInstallStatus can still be called with it.
    operationId: p.operationId,
    environmentId: ids.environmentId,
    packageUniqueName: ids.packageUniqueName,
    packageVersion: ids.packageVersion,
    status: p.status,
    alreadyInstalled: false,
    startedAt,
    completedAt,
    durationSeconds: Number.isNaN(start) || Number.isNaN(end) ? null : Math.max(0, Math.round((end - start) / 100) / 10),
    statusMessage: p.statusMessage,
    error: p.error,
    waitTimedOut: p.waitTimedOut === true && !isTerminal(p.status),
  };
}

export function alreadyInstalledResult(environmentId: string, uniqueName: string, version: string | null): InstallResult {
  return {
    operationId: null,
    environmentId,
    packageUniqueName: uniqueName,
    packageVersion: version,
    status: 'Succeeded',
    alreadyInstalled: true,
    startedAt: null,
    completedAt: null,
    durationSeconds: 0,
    statusMessage: `Version ${version ?? '(unknown)'} is already installed; nothing was started.`,
    error: null,
    waitTimedOut: false,
  };
}

/** The sentence for a 422 on a failed or canceled install, or a wait the relay's deadline ended. */
export function failureMessage(r: InstallResult): string {
  const pkg = r.packageUniqueName ? `"${r.packageUniqueName}"` : 'the package';
  const op = r.operationId ? ` (operation ${r.operationId})` : '';
  const said = r.error?.message ?? r.statusMessage;
  const upstream = said ? ` Upstream said: "${said}".` : '';
  if (r.waitTimedOut && !isTerminal(r.status)) {
    return `The relay stopped waiting for the install of ${pkg} into environment ${r.environmentId}${op}: its install deadline (INSTALL_DEADLINE_MINUTES) passed. This is not the install's outcome: Power Platform still reports it ${r.status}. Call GetInstallStatus with the operation id to follow it, or run InstallPackage again to join it and wait again.`;
  }
  switch (r.status) {
    case 'Canceled':
      return `The install of ${pkg} into environment ${r.environmentId} was canceled${op}.${upstream} Start it again when ready.`;
    default:
      return `The install of ${pkg} into environment ${r.environmentId} failed${op}.${upstream || ' Upstream gave no reason.'} Fix the cause (for example a missing dependency) and run the install again.`;
  }
}

/**
 * Retry-After for the flow engine, in whole seconds: short while an install is young (most
 * finish in a couple of minutes), longer as it drags on, never below what upstream asked of us.
 */
export function engineRetryAfterSeconds(elapsedMs: number, upstreamRetryAfter?: number): number {
  const byAge = Math.min(30, Math.max(1, Math.ceil(elapsedMs / 10_000)));
  return Math.max(byAge, Math.ceil(upstreamRetryAfter ?? 0));
}
