// GetInstallStatus (a snapshot, always 200) and the wait endpoint behind every install's Location
// URL (202 while running, then the final result). answerInstall is shared with InstallPackage.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RelayApp } from '../http/relay-app.js';
import { installAcceptedSchema, installResultSchema, operationParams, statusQuery, waitQuery } from './install-schemas.js';
import { endsWait, failureMessage, type InstallResult, isFailure } from './install-status.js';
import { WAIT_OPERATION } from '../connector-definition/public.js';
import { callerLabel } from '../http/caller.js';
import { installStatusErrors, waitErrors } from './route-errors.js';
import { RelayError } from '../errors.js';
import type { InstallView } from './install-service.js';
import { publicOrigin } from '../http/forwarded-origin.js';
import type { InstallServices } from './wiring.js';
import { HeldRelease, releaseOnAbort, type WaitRelease } from './wait-release.js';

export interface AnswerOptions {
  /** The operation id the wait URL uses (the all-zero id when following the package state). */
  operationId: string;
  failOnError: boolean;
}

/**
 * 202 + Location + Retry-After while the install runs; 200 with the result when it succeeded;
 * 422 naming the package, upstream's message and the operation id when it failed or was canceled
 * (a 4xx, so the flow engine fails the action at once instead of retrying), or 200 with that
 * status when the caller asked for failOnError=false. When the relay's install deadline ends the
 * wait first: 422 InstallWaitTimedOut (or 200 with waitTimedOut: true), the status still upstream's.
 */
export function answerInstall(s: InstallServices, request: FastifyRequest, reply: FastifyReply, view: InstallView, o: AnswerOptions) {
  const r = view.result;
  if (!endsWait(r)) {
    const url = s.waitUrls.signedUrl(publicOrigin(request, s.config), {
      environmentId: r.environmentId,
      operationId: o.operationId,
      packageUniqueName: r.packageUniqueName,
      packageVersion: r.packageVersion,
      ...(o.failOnError ? {} : { failOnError: false }),
    });
    reply.code(202).header('location', url).header('retry-after', String(view.retryAfter));
    return {
      operationId: r.operationId,
      environmentId: r.environmentId,
      status: r.status,
      packageUniqueName: r.packageUniqueName,
      statusUrl: url,
    };
  }
  request.log.info(
    {
      event: 'install.result',
      caller: callerLabel(request.caller),
      environmentId: r.environmentId,
      packageUniqueName: r.packageUniqueName,
      operationId: r.operationId,
      status: r.status,
      waitTimedOut: r.waitTimedOut,
    },
    r.waitTimedOut ? `install wait ended by the install deadline (install still ${r.status})` : `install result ${r.status} delivered`,
  );
  if ((isFailure(r.status) || r.waitTimedOut) && o.failOnError) throw failureError(r);
  reply.code(200);
  return r;
}

/**
 * Runs a progress read that may hold the request: counted in relay_active_waits, and released
 * early (answered with the current progress) when the relay shuts down or the caller hangs up,
 * so abandoned waits hold nothing.
 */
export function holding<T>(
  app: RelayApp,
  reply: FastifyReply,
  waitMs: number,
  read: (release: WaitRelease) => Promise<T>,
): Promise<T> {
  if (waitMs <= 0 || app.shuttingDown.aborted) return read(releaseOnAbort(app.shuttingDown));
  // Not an async function, and `on` rather than `once`: a suspended frame and a once-wrapper per
  // held wait are memory the fan-out of thousands of waits pays for.
  const release = new HeldRelease();
  reply.raw.on('close', release.release);
  const forget = app.onShuttingDown(release.release);
  const done = app.metrics.waitStarted();
  return read(release).finally(() => {
    reply.raw.off('close', release.release);
    forget();
    done();
  });
}

function failureError(r: InstallResult): RelayError {
  const code = r.waitTimedOut ? 'InstallWaitTimedOut' : r.status === 'Canceled' ? 'InstallCanceled' : 'InstallFailed';
  return new RelayError(422, code, failureMessage(r), { details: r, target: 'operationId' });
}

export async function registerOperationRoutes(app: RelayApp, s: InstallServices) {
  app.get(
    '/v1/environments/:environmentId/operations/:operationId',
    {
      config: { permission: 'packages.read' },
      schema: {
        operationId: 'GetInstallStatus',
        summary: 'Get install status',
        description:
          "Returns where an install stands right now, always with 200: for Power Apps and for flows that turned the asynchronous pattern off. The status is upstream's, also for installs started outside the relay; the relay's install deadline only limits its own waits.",
        tags: ['Packages'],
        params: operationParams,
        querystring: statusQuery,
        response: { 200: installResultSchema },
        successes: { 200: 'Where the install stands now, whether it runs or ended (see status).' },
        errors: installStatusErrors,
      },
    },
    async (request) => {
      const { environmentId, operationId } = request.params;
      const view = await s.installs.progress(
        environmentId,
        operationId,
        { packageUniqueName: request.query.package ?? null, packageVersion: null },
        0,
        { userAssertion: request.caller?.bearerToken, reading: true },
      );
      return view.result;
    },
  );

  // The Location target of InstallPackage (internal: the flow engine calls it, makers do not).
  // It accepts the signed `sig` from the URL instead of credentials, so it verifies that here.
  app.get(
    '/v1/environments/:environmentId/operations/:operationId/wait',
    {
      config: { permission: 'packages.install', acceptsWaitToken: true },
      schema: {
        hide: true,
        ...WAIT_OPERATION,
        'x-ms-visibility': 'internal',
        tags: ['Packages'],
        params: operationParams,
        querystring: waitQuery,
        response: { 200: installResultSchema, 202: installAcceptedSchema },
        successes: {
          200: 'The install ended with success (or, with failOnError=false in the URL, ended in any way).',
          202: 'The install still runs: poll again after Retry-After seconds.',
        },
        errors: waitErrors,
      },
    },
    // Not async: this handler is what thousands of held waits are suspended in, and a promise
    // chain keeps less alive per wait than a suspended async frame.
    (request, reply) => {
      // Only a caller with credentials may come without a signature; a caller let in on the
      // strength of the signature must have one this route accepts.
      s.waitUrls.verify(request.url, request.caller);
      const { environmentId, operationId } = request.params;
      const q = request.query;
      return holding(app, reply, q.waitSeconds * 1000, (release) =>
        s.installs.progress(
          environmentId,
          operationId,
          { packageUniqueName: q.package ?? null, packageVersion: q.version ?? null },
          q.waitSeconds * 1000,
          { release, userAssertion: request.caller?.bearerToken },
        ),
      ).then((view) => answerInstall(s, request, reply, view, { operationId, failOnError: q.failOnError !== 'false' }));
    },
  );
}
