// The relay's package model: upstream's ApplicationPackage entries turned into one stable,
// camelCase shape, with `updateAvailable` derived the only way upstream allows (the NotInstalled
// list carries a newer version under the same uniqueName as an installed entry).
import type { InstallStateFilter, RawApplicationPackage, UpstreamErrorDetails } from '../upstream/types.js';

export interface PackageError {
  code: string | null;
  name: string | null;
  message: string | null;
  source: string | null;
}

export interface PackageInfo {
  uniqueName: string;
  displayName: string;
  version: string | null;
  publisherName: string | null;
  description: string | null;
  applicationId: string | null;
  learnMoreUrl: string | null;
  /** Upstream InstancePackageState, e.g. None, Installed, Installing, InstallFailed. */
  state: string;
  installed: boolean;
  updateAvailable: boolean;
  /** The newer version offered when updateAvailable, else null. */
  availableVersion: string | null;
  error: PackageError | null;
}

/** Package states that mean an install (or uninstall) is under way upstream. */
export const IN_PROGRESS_PACKAGE_STATES: ReadonlySet<string> = new Set([
  'InstallRequested',
  'Installing',
  'InstallScheduled',
  'InstallRetrying',
  'UninstallRequested',
  'Uninstalling',
]);

export function isInstalledState(state: string | undefined): boolean {
  return state === 'Installed';
}

export function isInProgressState(state: string | undefined): boolean {
  return state !== undefined && IN_PROGRESS_PACKAGE_STATES.has(state);
}

/** Compares dotted versions numerically ("2.0.0.45" < "2.0.0.100"); missing parts count as 0 and
 *  non-numeric parts compare as text, so odd versions still order deterministically. */
export function compareVersions(a: string | null | undefined, b: string | null | undefined): number {
  if (!a && !b) return 0;
  if (!a) return -1;
  if (!b) return 1;
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = /^\d+$/.test(x) ? Number(x) : Number.NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : Number.NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx < ny ? -1 : 1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

export function normaliseError(details: UpstreamErrorDetails | null | undefined): PackageError | null {
  if (!details) return null;
  const { errorCode, errorName, message, source } = details;
  if (errorCode == null && !errorName && !message && !source) return null;
  return {
    code: errorCode == null ? null : String(errorCode),
    name: errorName ?? null,
    message: message ?? null,
    source: source ?? null,
  };
}

function normaliseOne(raw: RawApplicationPackage): PackageInfo {
  const state = raw.state ?? 'None';
  return {
    uniqueName: raw.uniqueName,
    displayName: raw.localizedName || raw.applicationName || raw.uniqueName,
    version: raw.version ?? null,
    publisherName: raw.publisherName ?? null,
    description: raw.localizedDescription || raw.applicationDescription || null,
    applicationId: raw.applicationId ?? null,
    learnMoreUrl: raw.learnMoreUrl ?? null,
    state,
    installed: isInstalledState(state),
    updateAvailable: false,
    availableVersion: null,
    // The wire says errorDetails; the docs say lastError. Accept both.
    error: normaliseError(raw.errorDetails ?? raw.lastError),
  };
}

/** The newest version offered but not installed, per uniqueName. */
function newestOffered(raw: RawApplicationPackage[]): Map<string, string> {
  const newest = new Map<string, string>();
  for (const p of raw) {
    if (isInstalledState(p.state) || !p.version) continue;
    const seen = newest.get(p.uniqueName);
    if (!seen || compareVersions(p.version, seen) > 0) newest.set(p.uniqueName, p.version);
  }
  return newest;
}

/**
 * Normalises an upstream list. `raw` must hold every entry upstream offers for the environment
 * (installed and not installed), because updateAvailable is derived across the two.
 * - All: one entry per uniqueName (the installed one when there is one), so pickers show no duplicates.
 * - Installed / NotInstalled: the entries in that state, as upstream lists them.
 */
export function normalisePackages(raw: RawApplicationPackage[], state: InstallStateFilter = 'All'): PackageInfo[] {
  const newest = newestOffered(raw);
  const all = raw.map((p) => {
    const info = normaliseOne(p);
    const offered = newest.get(p.uniqueName);
    if (info.installed && offered && compareVersions(offered, info.version) > 0) {
      info.updateAvailable = true;
      info.availableVersion = offered;
    }
    return info;
  });
  if (state === 'Installed') return all.filter((p) => p.installed);
  if (state === 'NotInstalled') return all.filter((p) => !p.installed);
  return mergeByUniqueName(all);
}

function mergeByUniqueName(all: PackageInfo[]): PackageInfo[] {
  const byName = new Map<string, PackageInfo>();
  for (const p of all) {
    const seen = byName.get(p.uniqueName);
    if (!seen || rank(p, seen) > 0) byName.set(p.uniqueName, p);
  }
  return [...byName.values()];
}

// Installed wins; then an entry with work under way; then the newest version.
function rank(a: PackageInfo, b: PackageInfo): number {
  if (a.installed !== b.installed) return a.installed ? 1 : -1;
  const ai = isInProgressState(a.state);
  if (ai !== isInProgressState(b.state)) return ai ? 1 : -1;
  return compareVersions(a.version, b.version);
}

/** Case-insensitive substring search over unique name, display name and publisher. */
export function searchPackages(packages: PackageInfo[], search: string | undefined): PackageInfo[] {
  const q = search?.trim().toLowerCase();
  if (!q) return packages;
  return packages.filter((p) =>
    [p.uniqueName, p.displayName, p.publisherName ?? ''].some((field) => field.toLowerCase().includes(q)),
  );
}

/** Stable order for lists: display name, then unique name. */
export function sortPackages(packages: PackageInfo[]): PackageInfo[] {
  return [...packages].sort(
    (a, b) => a.displayName.localeCompare(b.displayName, 'en') || a.uniqueName.localeCompare(b.uniqueName, 'en'),
  );
}

/** The operation id upstream's package list shows for an entry, when it shows a usable one. */
export function listedOperationId(entry: RawApplicationPackage): string | undefined {
  const id = entry.lastOperation?.operationId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
