// Service endpoints outside /v1: liveness and readiness. Readiness asks the upstream clients
// whether a token can be had and upstream answers (and, with a shared state store, whether the
// database answers), cached briefly so probes do not load upstream.
import type { AppDeps, RelayApp } from '../app.js';
import type { Clock } from '../clock.js';

const READY_CACHE_MS = 5_000;

export async function registerSystemRoutes(app: RelayApp, deps: AppDeps & { clock: Clock }) {
  let cached: { at: number; ok: boolean; detail: string } | undefined;

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    const now = deps.clock.now();
    if (!cached || now - cached.at > READY_CACHE_MS) {
      try {
        const [r, state] = await Promise.all([
          deps.upstream.checkReady({ correlationId: String(request.id), deadline: now + 10_000 }),
          deps.state?.checkReady() ?? { ok: true, detail: '' },
        ]);
        // A replica that cannot reach its shared state must not take traffic that needs it.
        cached = { at: now, ok: r.ok && state.ok, detail: state.ok ? r.detail : state.detail };
      } catch (err) {
        cached = { at: now, ok: false, detail: (err as Error).message };
      }
    }
    return reply.status(cached.ok ? 200 : 503).send({ status: cached.ok ? 'ready' : 'not ready', detail: cached.detail });
  });
}
