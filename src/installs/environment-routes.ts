// ListEnvironments: the environment picker behind every package action (which asks only for
// environments with Dataverse, the only ones packages install into).
import type { RelayApp } from '../http/relay-app.js';
import { environmentListSchema, listEnvironmentsQuery } from './package-schemas.js';
import { CALLER_ERRORS, INPUT_ERRORS, UPSTREAM_ERRORS } from '../connector-definition/public.js';
import type { InstallServices } from './wiring.js';
import { callContext } from '../http/call-context.js';

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
        querystring: listEnvironmentsQuery,
        response: { 200: environmentListSchema },
        errors: { ...INPUT_ERRORS, ...CALLER_ERRORS, ...UPSTREAM_ERRORS },
      },
    },
    async (request) => {
      const all = await s.environments.list(callContext(request));
      const { hasDataverse } = request.query;
      return { value: hasDataverse === undefined ? all : all.filter((e) => e.hasDataverse === hasDataverse) };
    },
  );
}
