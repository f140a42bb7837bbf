// The plan: which environments get which package at which version, and why the others are
// skipped. Read-only (environment list and each environment's package list); the dry run answers
// with it, and a real rollout starts from it.
import { RelayError } from '../errors.js';
import type { EnvironmentInfo, InstallServices, PackageInfo } from '../installs/public.js';
import { normalisePackages } from '../installs/public.js';
import type { CallContext } from '../upstream/types.js';
import type { RolloutRequest, RolloutTarget, SkipReason } from './rollout-model.js';
import { matchesFilter } from './target-filter.js';

/** Package lists read at once while planning: enough to plan hundreds of environments in seconds
 *  without a burst that upstream throttles. */
const PLAN_READ_CONCURRENCY = 8;

function row(env: EnvironmentInfo, pkg: string | null, extra: Partial<RolloutTarget>): RolloutTarget {
  return {
    environmentId: env.id,
    environmentName: env.displayName,
    packageUniqueName: pkg,
    fromVersion: null,
    toVersion: null,
    status: 'Planned',
    skipReason: null,
    operationId: null,
    startedAt: null,
    finishedAt: null,
    error: null,
    deferrals: 0,
    ...extra,
  };
}

const skipped = (env: EnvironmentInfo, pkg: string | null, reason: SkipReason, extra: Partial<RolloutTarget> = {}) =>
  row(env, pkg, { status: 'Skipped', skipReason: reason, ...extra });

export async function chooseEnvironments(s: InstallServices, request: RolloutRequest, ctx: CallContext): Promise<{ envs: EnvironmentInfo[]; missing: string[] }> {
  const all = await s.environments.list(ctx);
  if (request.environmentIds) {
    const byId = new Map(all.map((e) => [e.id.toLowerCase(), e]));
    const envs: EnvironmentInfo[] = [];
    const missing: string[] = [];
    for (const id of new Set(request.environmentIds.map((i) => i.toLowerCase()))) {
      const env = byId.get(id);
      if (env) envs.push(env);
      else missing.push(id);
    }
    return { envs, missing };
  }
  return { envs: all.filter((e) => matchesFilter(e, request.filter ?? {})), missing: [] };
}

/** The rows for one environment. */
function planEnvironment(env: EnvironmentInfo, packages: PackageInfo[], request: RolloutRequest): RolloutTarget[] {
  if (request.packageUniqueName === null) {
    const updates = packages.filter((p) => p.installed && p.updateAvailable);
    if (updates.length === 0) return [skipped(env, null, 'NoUpdateAvailable')];
    return updates.map((p) => row(env, p.uniqueName, { fromVersion: p.version, toVersion: p.availableVersion }));
  }
  const wanted = request.packageUniqueName.toLowerCase();
  const pkg = packages.find((p) => p.uniqueName.toLowerCase() === wanted);
  if (!pkg) return [skipped(env, request.packageUniqueName, 'NotOffered')];
  const versions = { fromVersion: pkg.installed ? pkg.version : null, toVersion: pkg.availableVersion ?? pkg.version };
  if (pkg.installed && !pkg.updateAvailable) return [skipped(env, pkg.uniqueName, 'AlreadyCurrent', { ...versions, toVersion: pkg.version })];
  if (!pkg.installed && request.mode === 'update') return [skipped(env, pkg.uniqueName, 'NotInstalled', versions)];
  if (pkg.installed && request.mode === 'install') return [skipped(env, pkg.uniqueName, 'AlreadyInstalled', versions)];
  return [row(env, pkg.uniqueName, versions)];
}

export async function planRollout(s: InstallServices, request: RolloutRequest, ctx: CallContext): Promise<RolloutTarget[]> {
  const { envs, missing } = await chooseEnvironments(s, request, ctx);
  if (envs.length === 0 && missing.length === 0) {
    throw new RelayError(
      400,
      'NoEnvironmentsMatched',
      'No environment matches the rollout\'s targets. Check the filter (types such as Production or Sandbox, regions such as unitedstates, a display-name pattern with *) against ListEnvironments.',
      { target: 'targets' },
    );
  }
  const rows: RolloutTarget[][] = new Array(envs.length);
  let next = 0;
  const worker = async () => {
    while (next < envs.length) {
      const i = next++;
      const env = envs[i]!;
      if (!env.hasDataverse) {
        rows[i] = [skipped(env, request.packageUniqueName, 'NoDataverse')];
        continue;
      }
      const raw = await s.packages.raw(env.id, ctx);
      rows[i] = planEnvironment(env, normalisePackages(raw, 'All'), request);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PLAN_READ_CONCURRENCY, envs.length) }, worker));
  const unknown = missing.map((id) =>
    skipped({ id, displayName: id, location: null, environmentSku: null, hasDataverse: false, dataverseUrl: null }, request.packageUniqueName, 'EnvironmentNotFound'),
  );
  return [...rows.flat(), ...unknown];
}
