// ListEnvironments: the environment picker behind every package action.
import type { RelayApp } from '../app.js';
import { environmentListSchema } from '../domain/package-schemas.js';
import type { InstallServices } from '../services/install-wiring.js';
import { callContext } from './operations.js';

export async function registerEnvironmentRoutes(app: RelayApp, s: InstallServices) {
  app.get(
    '/v1/environments',
    {
      config: { permission: 'packages.read' },
      schema: {
        operationId: 'ListEnvironments',
        summary: 'List environments',
        description: 'Lists the Power Platform environments the relay can manage, with whether each has Dataverse.',
        tags: ['Packages'],
        response: { 200: environmentListSchema },
      },
    },
    async (request) => ({ value: await s.environments.list(callContext(request)) }),
  );
}
