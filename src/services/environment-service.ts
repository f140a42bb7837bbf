// Environments as the relay presents them, and the pre-checks an install needs: the environment
// exists and has Dataverse (application packages install into Dataverse).
import { RelayError } from '../http/errors.js';
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

export class EnvironmentService {
  constructor(private readonly client: EnvironmentsClient) {}

  async list(ctx: CallContext): Promise<EnvironmentInfo[]> {
    const all = await this.client.list(ctx);
    return all
      .map(environmentInfo)
      .sort((a, b) => a.displayName.localeCompare(b.displayName, 'en') || a.id.localeCompare(b.id));
  }

  /** The environment, or a 404 that says how to find the right id. */
  async require(environmentId: string, ctx: CallContext): Promise<Environment> {
    const env = await this.client.get(environmentId, ctx);
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
