// StartRollout, GetRollout, ListRollouts, CancelRollout, and the rollout's wait URL (Location).
import { RelayError } from '../errors.js';
import { callContext } from '../http/call-context.js';
import { callerLabel } from '../http/caller.js';
import { publicOrigin } from '../http/forwarded-origin.js';
import type { RelayApp } from '../http/relay-app.js';
import type { Rollout, RolloutRequest } from './rollout-model.js';
import { answerRollout } from './rollout-answer.js';
import type { RolloutService } from './rollout-service.js';
import { rolloutView } from './rollout-view.js';
import { cancelRolloutErrors, getRolloutErrors, listRolloutErrors, startRolloutErrors, waitRolloutErrors } from './route-errors.js';
import {
  cancelBody,
  listQuery,
  rolloutAcceptedSchema,
  rolloutPageSchema,
  rolloutParams,
  rolloutSchema,
  startQuery,
  startRolloutBody,
  waitRolloutQuery,
} from './schemas.js';

const TAGS = ['Rollouts'];

type StartBody = typeof startRolloutBody._output;

function rolloutRequest(b: StartBody): RolloutRequest {
  if (!b.packageUniqueName === !b.allPendingUpdates) {
    throw new RelayError(400, 'PackageChoiceRequired', 'Give either packageUniqueName (one package) or allPendingUpdates: true (every package with an update available), not both and not neither.', { target: 'packageUniqueName' });
  }
  if (!b.environmentIds === !b.filter) {
    throw new RelayError(400, 'TargetsRequired', 'Give either environmentIds (a list) or filter (dataverseOnly, types, regions, displayNamePattern), not both and not neither. An empty filter {} means every environment.', { target: 'environmentIds' });
  }
  return {
    packageUniqueName: b.packageUniqueName ?? null,
    environmentIds: b.environmentIds ?? null,
    filter: b.filter ?? null,
    mode: b.allPendingUpdates ? 'update' : b.mode,
    maxConcurrent: b.maxConcurrent,
    stopAfterFailures: b.stopAfterFailures ?? null,
    stopAtFailureRatio: b.stopAtFailureRatio ?? null,
    reason: b.reason,
  };
}

export async function registerRolloutRoutes(app: RelayApp, rollouts: RolloutService) {
  const s = rollouts.installs;

  /** Holds up to waitSeconds for the rollout to end (long poll). */
  const settled = async (id: string, waitSeconds: number): Promise<Rollout> => {
    const until = Date.now() + waitSeconds * 1000;
    let r = await rollouts.get(id);
    while (r.status === 'Running' && Date.now() < until && !app.shuttingDown.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      r = await rollouts.get(id);
    }
    return r;
  };

  app.post(
    '/v1/rollouts',
    {
      config: { permission: 'packages.install' },
      schema: {
        operationId: 'StartRollout',
        summary: 'Roll out a package to many environments and wait',
        description:
          'Installs or updates one package (or every package with an update available) across environments chosen by id or by a filter, a few at a time, and waits for all of them. Busy or throttled environments are retried later; each environment goes through the same checks as Install a package. With Dry run it only answers the plan.',
        'x-ms-visibility': 'important',
        tags: TAGS,
        querystring: startQuery,
        body: startRolloutBody,
        response: { 200: rolloutSchema, 202: rolloutAcceptedSchema },
        successes: {
          200: 'The plan (Dry run), or the rollout ended with every environment succeeded or skipped. With Fail On Error false, also when it ended otherwise (see status).',
          202: 'The rollout runs: the flow engine polls the Location URL after Retry-After seconds until it ends.',
        },
        errors: startRolloutErrors,
      },
    },
    async (request, reply) => {
      const request_ = rolloutRequest(request.body);
      const caller = callerLabel(request.caller);
      if (request.body.dryRun) {
        const targets = await rollouts.plan(request_, callContext(request));
        const now = new Date().toISOString();
        const plan: Rollout = { rolloutId: '', status: 'Succeeded', createdAt: now, createdBy: caller, endedAt: null, request: request_, cancelRequested: false, stoppedBecause: null, targets, events: [] };
        return rolloutView(plan, true);
      }
      const started = await rollouts.start(request_, caller, callContext(request));
      const r = await settled(started.rolloutId, request.query.waitSeconds);
      return answerRollout(s, request, reply, r, request.query.failOnError !== 'false');
    },
  );

  app.get(
    '/v1/rollouts',
    {
      config: { permission: 'packages.read' },
      schema: {
        operationId: 'ListRollouts',
        summary: 'List rollouts',
        description: 'Rollouts started through this relay, newest first, one page at a time.',
        tags: TAGS,
        'x-ms-pageable': { nextLinkName: 'nextLink' },
        querystring: listQuery,
        response: { 200: rolloutPageSchema },
        errors: listRolloutErrors,
      },
    },
    async (request) => {
      const q = request.query;
      const skip = Number(q.continuationToken ?? 0);
      const page = await rollouts.list(skip, q.pageSize);
      const nextSkip = skip + page.items.length;
      const more = nextSkip < page.total;
      let nextLink: string | null = null;
      if (more) {
        const next = new URL(`${publicOrigin(request, s.config)}/v1/rollouts`);
        next.searchParams.set('pageSize', String(q.pageSize));
        next.searchParams.set('continuationToken', String(nextSkip));
        nextLink = next.toString();
      }
      return { value: page.items.map((r) => rolloutView(r)), continuationToken: more ? String(nextSkip) : null, nextLink };
    },
  );

  app.get(
    '/v1/rollouts/:rolloutId',
    {
      config: { permission: 'packages.read' },
      schema: {
        operationId: 'GetRollout',
        summary: 'Get a rollout',
        description: 'Where a rollout stands now, with one row per environment, always with 200.',
        tags: TAGS,
        params: rolloutParams,
        response: { 200: rolloutSchema },
        errors: getRolloutErrors,
      },
    },
    async (request) => rolloutView(await rollouts.get(request.params.rolloutId)),
  );

  app.post(
    '/v1/rollouts/:rolloutId/cancel',
    {
      config: { permission: 'packages.install' },
      schema: {
        operationId: 'CancelRollout',
        summary: 'Cancel a rollout',
        description: 'Starts no new installs; installs already running finish and are reported. The rollout then ends Canceled.',
        tags: TAGS,
        params: rolloutParams,
        body: cancelBody,
        response: { 200: rolloutSchema },
        errors: cancelRolloutErrors,
      },
    },
    async (request) =>
      rolloutView(await rollouts.cancel(request.params.rolloutId, callerLabel(request.caller), request.body.reason)),
  );

  // The Location target of StartRollout (internal: the flow engine calls it, makers do not).
  app.get(
    '/v1/rollouts/:rolloutId/wait',
    {
      config: { permission: 'packages.install', acceptsWaitToken: true },
      schema: {
        hide: true,
        operationId: 'WaitForRollout',
        summary: 'Wait for a rollout to finish',
        description: 'The Location URL of a rollout: answers 202 while it runs and the result when it ends.',
        'x-ms-visibility': 'internal',
        tags: TAGS,
        params: rolloutParams,
        querystring: waitRolloutQuery,
        response: { 200: rolloutSchema, 202: rolloutAcceptedSchema },
        successes: {
          200: 'The rollout ended with success (or, with failOnError=false in the URL, ended in any way).',
          202: 'The rollout still runs: poll again after Retry-After seconds.',
        },
        errors: waitRolloutErrors,
      },
    },
    async (request, reply) => {
      s.waitUrls.verify(request.url, request.caller);
      const r = await settled(request.params.rolloutId, request.query.waitSeconds);
      return answerRollout(s, request, reply, r, request.query.failOnError !== 'false');
    },
  );
}
