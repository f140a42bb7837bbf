// Service endpoints outside /v1: liveness and readiness. Readiness asks the upstream clients
// whether a token can be had and upstream answers (and, with a shared state store, whether the
// database answers), cached briefly so probes do not load upstream. Its answer is the same for
// every caller (ready / not ready and a reason code); what exactly failed is logged, once per
// check, because /readyz needs no credentials.
import type { Clock } from '../clock.js';
import { relayPlugin } from '../http/relay-app.js';
import type { StateStores } from '../state/stores.js';
import type { UpstreamClients } from '../upstream/types.js';
import { type NotReadyReason, notReadyReason } from './readiness-reason.js';

const READY_CACHE_MS = 5_000;

export interface SystemRouteOptions {
  upstream: Pick<UpstreamClients, 'checkReady'>;
  /** Only a shared state store is asked; the embedded one is always ready. */
  state?: Pick<StateStores, 'checkReady'>;
  clock: Clock;
}

export const systemPlugin = relayPlugin<SystemRouteOptions>((app, deps) => {
  let cached: { at: number; reason?: NotReadyReason } | undefined;

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    const now = deps.clock.now();
    if (!cached || now - cached.at > READY_CACHE_MS) {
      try {
        const [r, state] = await Promise.all([
          deps.upstream.checkReady({ correlationId: String(request.id), deadline: now + 10_000 }),
          deps.state?.checkReady() ?? { ok: true, detail: '' },
        ]);
        if (!r.ok) throw new Error(r.detail);
        // A replica that cannot reach its shared state must not take traffic that needs it.
        if (!state.ok) {
          request.log.warn({ reason: 'state_store_unavailable', detail: state.detail }, 'not ready');
          cached = { at: now, reason: 'state_store_unavailable' };
        } else {
          request.log.debug({ detail: r.detail }, 'ready');
          cached = { at: now };
        }
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
}, { name: 'relay-system', encapsulate: true });
