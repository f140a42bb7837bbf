// The polling trigger "When a package install finishes": no cursor → baseline, 202; nothing ended
// → 202; installs ended → 200 with them. Every answer carries the next Location and Retry-After.
import { callContext } from '../http/call-context.js';
import { publicOrigin } from '../http/forwarded-origin.js';
import type { RelayApp } from '../http/relay-app.js';
import type { InstallFinishedTrigger } from './install-finished-trigger.js';
import { installTriggerQuery, installTriggerResult } from './install-trigger-schemas.js';
import { environmentParams } from './package-schemas.js';
import { installTriggerErrors } from './route-errors.js';
import type { InstallServices } from './wiring.js';

export function registerInstallTriggerRoutes(app: RelayApp, s: InstallServices, trigger: InstallFinishedTrigger): void {
  app.get(
    '/v1/environments/:environmentId/triggers/package-installs',
    {
      config: { permission: 'packages.read' },
      schema: {
        operationId: 'OnPackageInstallFinished',
        summary: 'When a package install finishes',
        description:
          'Fires for every package whose install or update ends in the environment (Installed, Updated, InstallFailed), whoever started it: the package, version, outcome, upstream error and operation id where known.',
        tags: ['Packages'],
        'x-ms-trigger': 'batch',
        'x-ms-trigger-hint': 'To see it work, install a package in the environment.',
        params: environmentParams,
        querystring: installTriggerQuery,
        response: { 200: installTriggerResult, 202: installTriggerResult },
        successes: {
          200: 'Installs ended: the items, and Location for the next check.',
          202: 'Nothing ended (or the first check, which records the current states): check Location again after Retry-After seconds.',
        },
        errors: installTriggerErrors,
      },
    },
    async (request, reply) => {
      const { environmentId } = request.params;
      const { pollSeconds, cursor } = request.query;
      const polled = await trigger.poll(environmentId, cursor ?? null, callContext(request));
      const next = new URL(`${publicOrigin(request, s.config)}/v1/environments/${encodeURIComponent(environmentId)}/triggers/package-installs`);
      next.searchParams.set('pollSeconds', String(pollSeconds));
      next.searchParams.set('cursor', polled.cursor);
      reply.header('location', next.toString()).header('retry-after', String(pollSeconds));
      if (polled.kind !== 'finished') return reply.code(202).send({ value: [] });
      return { value: polled.items };
    },
  );
}
