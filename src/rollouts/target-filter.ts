// Choosing environments: an explicit list of ids, or a filter over ListEnvironments.
import type { EnvironmentInfo } from '../installs/public.js';
import type { TargetFilter } from './rollout-model.js';

/** `*` is any run of characters; everything else is literal; case is ignored. */
export function displayNameMatcher(pattern: string): (name: string) => boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(`^${source}$`, 'i');
  return (name) => re.test(name);
}

export function matchesFilter(env: EnvironmentInfo, filter: TargetFilter): boolean {
  const lower = (xs: string[] | undefined) => xs?.map((x) => x.toLowerCase());
  const types = lower(filter.types);
  const regions = lower(filter.regions);
  if (filter.dataverseOnly && !env.hasDataverse) return false;
  if (types?.length && !types.includes((env.environmentSku ?? '').toLowerCase())) return false;
  if (regions?.length && !regions.includes((env.location ?? '').toLowerCase())) return false;
  if (filter.displayNamePattern && !displayNameMatcher(filter.displayNamePattern)(env.displayName)) return false;
  return true;
}
