// One answer for StartRollout and the rollout's wait URL, like an install's: 202 + Location +
// Retry-After while it runs; 200 with the result when it succeeded; 422 when it did not (so the
// flow action fails at once), or 200 with that status when the caller asked for failOnError=false.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RelayError } from '../errors.js';
import { publicOrigin } from '../http/forwarded-origin.js';
import type { InstallServices } from '../installs/public.js';
import type { Rollout } from './rollout-model.js';
import { rolloutView } from './rollout-view.js';

/** Seconds between the engine's polls: a rollout takes minutes, not seconds. */
export const ROLLOUT_RETRY_AFTER_SECONDS = 10;

export function rolloutWaitPath(rolloutId: string, failOnError: boolean): string {
  return `/v1/rollouts/${encodeURIComponent(rolloutId)}/wait${failOnError ? '' : '?failOnError=false'}`;
}

export function answerRollout(s: InstallServices, request: FastifyRequest, reply: FastifyReply, r: Rollout, failOnError: boolean) {
  if (r.status === 'Running') {
    const url = s.waitUrls.signTarget(publicOrigin(request, s.config), rolloutWaitPath(r.rolloutId, failOnError));
    reply.code(202).header('location', url).header('retry-after', String(ROLLOUT_RETRY_AFTER_SECONDS));
    return { rolloutId: r.rolloutId, status: r.status, statusUrl: url };
  }
  const view = rolloutView(r);
  if (r.status !== 'Succeeded' && failOnError) {
    const failures = view.environments
      .filter((e) => e.status === 'Failed')
      .slice(0, 3)
      .map((e) => `${e.environmentName}: ${e.error}`);
    throw new RelayError(
      422,
      `Rollout${r.status}`,
      `${view.summary}${failures.length ? ` First failures: ${failures.join(' | ')}` : ''} See GetRollout ${r.rolloutId} for every environment.`,
      { details: view, target: 'rolloutId' },
    );
  }
  reply.code(200);
  return view;
}
