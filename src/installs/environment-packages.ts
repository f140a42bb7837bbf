// The packages an environment offers, normalised, and the lookup of one package by unique name
// with a 404 that names the right one when the caller used a display name, an id or a typo.
import { normalisePackages, type PackageInfo, searchPackages, sortPackages } from './package-model.js';
import { lookupPackage, packageNotFoundMessage } from './package-suggestions.js';
import { RelayError } from '../errors.js';
import type { AppManagementClient, CallContext, InstallStateFilter, RawApplicationPackage } from '../upstream/types.js';
import type { EnvironmentService } from './environment-service.js';

export interface PackageQuery {
  state?: InstallStateFilter;
  search?: string;
  lcid?: string;
}

export interface ResolvedPackage {
  /** The canonical unique name (the caller may have typed another case). */
  uniqueName: string;
  /** Every upstream entry under that name: the installed one and any newer offered version. */
  entries: RawApplicationPackage[];
  info: PackageInfo;
}

export class EnvironmentPackages {
  constructor(
    private readonly appManagement: AppManagementClient,
    private readonly environments: EnvironmentService,
  ) {}

  /** Every entry upstream offers (all pages), installed or not: updateAvailable needs both. */
  async raw(environmentId: string, ctx: CallContext, lcid?: string): Promise<RawApplicationPackage[]> {
    return this.appManagement.listEnvironmentPackages(environmentId, { state: 'All', ...(lcid && { lcid }) }, ctx);
  }

  async list(environmentId: string, query: PackageQuery, ctx: CallContext): Promise<PackageInfo[]> {
    await this.environments.requireDataverse(environmentId, ctx);
    const raw = await this.raw(environmentId, ctx, query.lcid);
    return sortPackages(searchPackages(normalisePackages(raw, query.state ?? 'All'), query.search));
  }

  /** One package from an already fetched list, or a 404 with suggestions. */
  resolve(environmentId: string, given: string, raw: RawApplicationPackage[]): ResolvedPackage {
    const lookup = lookupPackage(given, raw);
    if (lookup.kind !== 'found') {
      throw new RelayError(404, 'PackageNotFound', packageNotFoundMessage(given, environmentId, lookup), {
        target: 'uniqueName',
        details:
          lookup.kind === 'missing'
            ? { suggestions: lookup.suggestions }
            : { suggestions: [lookup.uniqueName], given, givenKind: lookup.kind },
      });
    }
    const entries = raw.filter((p) => p.uniqueName === lookup.uniqueName);
    const info = normalisePackages(entries, 'All')[0]!;
    return { uniqueName: lookup.uniqueName, entries, info };
  }

  async get(environmentId: string, given: string, ctx: CallContext, lcid?: string): Promise<PackageInfo> {
    await this.environments.requireDataverse(environmentId, ctx);
    return this.resolve(environmentId, given, await this.raw(environmentId, ctx, lcid)).info;
  }
}
