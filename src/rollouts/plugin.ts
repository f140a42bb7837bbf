// The rollout area as one Fastify plugin: a rollout service over the shared install services, its
// routes, and picking up unfinished rollouts at start (and stopping their drivers at close).
import type { Clock } from '../clock.js';
import { relayPlugin } from '../http/relay-app.js';
import type { InstallServices } from '../installs/public.js';
import type { LeaseStore } from '../state/leases.js';
import type { RolloutStore } from '../state/rollout-store.js';
import { RolloutService } from './rollout-service.js';
import { registerRolloutRoutes } from './routes.js';

export interface RolloutTuning {
  /** Longest wait before a busy or throttled environment is tried again; default 60 s. */
  retryDelayCapMs?: number;
  /** Rollout lease lifetime; the holder renews it at a third of this. Default 30 s. */
  leaseTtlMs?: number;
  /** How often unfinished rollouts nobody drives are looked for; default 15 s. */
  adoptEveryMs?: number;
}

export interface RolloutsPluginOptions extends RolloutTuning {
  installs: InstallServices;
  store: RolloutStore;
  leases: LeaseStore;
  clock: Clock;
}

export const rolloutsPlugin = relayPlugin<RolloutsPluginOptions>(
  async (app, o) => {
    const service = new RolloutService({
      installs: o.installs,
      store: o.store,
      leases: o.leases,
      clock: o.clock,
      leaseTtlMs: o.leaseTtlMs ?? 30_000,
      retryDelayCapMs: o.retryDelayCapMs ?? 60_000,
      maxDeferrals: 30,
      adoptEveryMs: o.adoptEveryMs ?? 15_000,
      log: app.log,
    });
    await registerRolloutRoutes(app, service);
    app.addHook('onReady', () => service.resumeAll());
    app.addHook('preClose', () => service.close());
  },
  {
    name: 'relay-rollouts',
    dependencies: ['relay-auth', 'relay-openapi', 'relay-shutdown'],
    decorators: { fastify: ['shuttingDown'] },
    encapsulate: true,
  },
);
