// ListPackages, GetPackage and InstallPackage (start or join, then the async 202 pattern).
import type { RelayApp } from '../http/relay-app.js';
import { installAcceptedSchema, installParams, installQuery, installResultSchema } from './install-schemas.js';
import {
  environmentParams,
  getPackageQuery,
  listPackagesQuery,
  packageListSchema,
  packageParams,
  packageSchema,
} from './package-schemas.js';
import { callerLabel } from '../http/caller.js';
import { packageReadErrors, installErrors } from './route-errors.js';
import type { InstallServices } from './wiring.js';
import { callContext } from '../http/call-context.js';
import { answerInstall, holding } from './operation-routes.js';

export async function registerPackageRoutes(app: RelayApp, s: InstallServices) {
  app.get(
    '/v1/environments/:environmentId/packages',
    {
      config: { permission: 'packages.read' },
      schema: {
        operationId: 'ListPackages',
        summary: 'List packages',
        description:
          'Lists the application packages an environment offers, every upstream page included, with whether each is installed and whether an update is available.',
        tags: ['Packages'],
        params: environmentParams,
        querystring: listPackagesQuery,
        response: { 200: packageListSchema },
        errors: packageReadErrors,
      },
    },
    async (request) => {
      const { state, search, lcid } = request.query;
      return { value: await s.packages.list(request.params.environmentId, { state, search, lcid }, callContext(request)) };
    },
  );

  app.get(
    '/v1/environments/:environmentId/packages/:uniqueName',
    {
      config: { permission: 'packages.read' },
      schema: {
        operationId: 'GetPackage',
        summary: 'Get a package',
        description:
          'Returns one package of an environment by unique name; a wrong name gets a 404 that suggests the right one.',
        tags: ['Packages'],
        params: packageParams,
        querystring: getPackageQuery,
        response: { 200: packageSchema },
        errors: packageReadErrors,
      },
    },
    async (request) =>
      s.packages.get(request.params.environmentId, request.params.uniqueName, callContext(request), request.query.lcid),
  );

  app.post(
    '/v1/environments/:environmentId/packages/:uniqueName/install',
    {
      config: { permission: 'packages.install' },
      schema: {
        operationId: 'InstallPackage',
        summary: 'Install a package and wait',
        description:
          "Installs an application package into an environment and waits until it ends. Already installed packages succeed at once; an install already running is joined, never started twice. If the relay's install deadline passes first, the wait ends with InstallWaitTimedOut (Wait Timed Out true): the install is still running; run this again to join it.",
        'x-ms-visibility': 'important',
        tags: ['Packages'],
        params: installParams,
        querystring: installQuery,
        response: { 200: installResultSchema, 202: installAcceptedSchema },
        successes: {
          200: 'The install succeeded, or the package was already installed at this or a newer version (alreadyInstalled true, nothing ran). With Fail On Error false, also when it failed, was canceled or timed out (see status).',
          202: 'The install runs: the flow engine polls the Location URL after Retry-After seconds until it ends. With the asynchronous pattern off, the body has the operationId for Get install status.',
        },
        errors: installErrors,
      },
    },
    async (request, reply) => {
      const { environmentId, uniqueName } = request.params;
      const { waitSeconds, failOnError } = request.query;
      const started = await s.installs.start(environmentId, uniqueName, callerLabel(request.caller), callContext(request));
      if (started.kind === 'alreadyInstalled') return started.result;
      const { record } = started;
      const view = await holding(app, reply, waitSeconds * 1000, (release) =>
        s.installs.progress(
          environmentId,
          record.operationId,
          { packageUniqueName: record.packageUniqueName, packageVersion: record.packageVersion },
          waitSeconds * 1000,
          { release, freshness: 'known', userAssertion: request.caller?.bearerToken },
        ),
      );
      return answerInstall(s, request, reply, view, { operationId: record.operationId, failOnError: failOnError !== 'false' });
    },
  );
}
