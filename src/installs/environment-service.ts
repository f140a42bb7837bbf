// Environments as the relay presents them, and the pre-checks an install needs: the environment
// exists and has Dataverse (application packages install into Dataverse).
import { RelayError } from '../errors.js';
import type { CallContext, Environment, EnvironmentsClient } from '../upstream/types.js';

export interface EnvironmentInfo {
  id: string;
  displayName: string;
  location: string | null;
  environmentSku: string | null;
  hasDataverse: boolean;
  dataverseUrl: string | null;
}

export function environmentInfo(e: Environment): EnvironmentInfo {
  return {
    id: e.id,
    displayName: e.displayName || e.id,
    location: e.location ?? null,
    environmentSku: e.environmentSku ?? null,
    hasDataverse: e.hasDataverse,
    dataverseUrl: e.dataverseUrl || null,
  };
}

/** How long "this environment exists and has Dataverse" is believed without asking again. Only
 *  that positive answer is kept: a missing environment or one without Dataverse is always re-read,
 *  so adding Dataverse is seen at once. A deleted environment is seen up to this late, and then
 *  upstream's own answer to the list or install names it. */
export const DATAVERSE_CHECK_TTL_MS = 30_000;

export class EnvironmentService {
  private readonly withDataverse = new Map<string, { env: Environment; until: number }>();
  private readonly lookups = new Map<string, Promise<Environment | null>>();

  constructor(
    private readonly client: EnvironmentsClient,
    private readonly now: () => number = Date.now,
  ) {}

  async list(ctx: CallContext): Promise<EnvironmentInfo[]> {
    const all = await this.client.list(ctx);
    return all
      .map(environmentInfo)
      .sort((a, b) => a.displayName.localeCompare(b.displayName, 'en') || a.id.localeCompare(b.id));
  }

  /** The environment, or a 404 that says how to find the right id. */
  async require(environmentId: string, ctx: CallContext): Promise<Environment> {
    const env = await this.lookup(environmentId, ctx);
    if (!env) {
      throw new RelayError(
        404,
        'EnvironmentNotFound',
        `There is no environment ${environmentId} that the relay can manage. Check the id (the environment id, not the Dataverse organization id) or pick one from ListEnvironments.`,
        { target: 'environmentId' },
      );
    }
    return env;
  }

  // Every ListPackages, GetPackage and InstallPackage starts with this check; without the short
  // positive cache and the coalescing of concurrent lookups, each relayed call cost two sequential
  // upstream calls (measured in bench/relay-overhead.ts). On-behalf-of calls are not cached: what
  // an environment looks like may depend on who asks.
  private async lookup(environmentId: string, ctx: CallContext): Promise<Environment | null> {
    if (ctx.userAssertion) return this.client.get(environmentId, ctx);
    const hit = this.withDataverse.get(environmentId);
    if (hit && hit.until > this.now()) return hit.env;
    let pending = this.lookups.get(environmentId);
    if (!pending) {
      // Shared by concurrent callers, so one caller hanging up must not abort the others.
      pending = this.client.get(environmentId, { ...ctx, signal: undefined }).finally(() => this.lookups.delete(environmentId));
      this.lookups.set(environmentId, pending);
    }
    const env = await pending;
    if (env?.hasDataverse) this.withDataverse.set(environmentId, { env, until: this.now() + DATAVERSE_CHECK_TTL_MS });
    else this.withDataverse.delete(environmentId);
    return env;
  }

  /** The environment, refusing one without Dataverse with a message that says how to add it. */
  async requireDataverse(environmentId: string, ctx: CallContext): Promise<Environment> {
    const env = await this.require(environmentId, ctx);
    if (!env.hasDataverse) {
      throw new RelayError(
        409,
        'DataverseRequired',
        `Environment "${env.displayName}" (${env.id}) has no Dataverse database, and application packages install into Dataverse. Add Dataverse to it in the Power Platform admin center (Environments → the environment → Add Dataverse), wait until it is ready, then run the install again.`,
        { target: 'environmentId' },
      );
    }
    return env;
  }
}
