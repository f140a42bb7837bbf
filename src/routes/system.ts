// Service endpoints outside /v1: liveness and readiness. Readiness asks the upstream clients
// whether a token can be had and upstream answers, cached briefly so probes do not load upstream.
// Its answer is the same for every caller (ready / not ready and a reason code); what exactly
// failed is logged, once per check, because /readyz needs no credentials.
import type { AppDeps, RelayApp } from '../app.js';
import type { Clock } from '../clock.js';
import { type NotReadyReason, notReadyReason } from './readiness-reason.js';

const READY_CACHE_MS = 5_000;

export async function registerSystemRoutes(app: RelayApp, deps: AppDeps & { clock: Clock }) {
  let cached: { at: number; reason?: NotReadyReason } | undefined;

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    const now = deps.clock.now();
    if (!cached || now - cached.at > READY_CACHE_MS) {
      try {
        const r = await deps.upstream.checkReady({ correlationId: String(request.id), deadline: now + 10_000 });
        if (!r.ok) throw new Error(r.detail);
        request.log.debug({ detail: r.detail }, 'ready');
        cached = { at: now };
      } catch (err) {
        const reason = notReadyReason(err);
        request.log.warn({ reason, err }, 'not ready');
        cached = { at: now, reason };
      }
    }
    return cached.reason
      ? reply.status(503).send({ status: 'not ready', reason: cached.reason })
      : reply.status(200).send({ status: 'ready' });
  });
}
