// The isolation area as one Fastify plugin: the audit trail and per-tenant lock (shared ones from
// the state layer, or embedded defaults), the service over them, the operations and the trigger.
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';
import type { IsolationChangeOutcome } from '../http/metrics.js';
import { relayPlugin } from '../http/relay-app.js';
import type { AuditOutcome, AuditStore } from '../state/audit-store.js';
import { createAuditStore } from '../state/audit-store-factory.js';
import { createInProcessTenantLock, type TenantLock } from '../state/tenant-lock.js';
import type { UpstreamClients } from '../upstream/types.js';
import { IsolationService } from './isolation-service.js';
import { PolicyChangeTrigger } from './policy-change-trigger.js';
import { registerTriggerRoutes } from './trigger-routes.js';
import { registerDesiredStateRoutes } from './desired-state-routes.js';
import { createEmbeddedTriggerSnapshots, type TriggerSnapshotStore } from '../state/trigger-snapshots.js';
import { tenantKey } from './policy.js';
import { registerIsolationRoutes } from './routes.js';

const METRIC_OUTCOME: Record<AuditOutcome, IsolationChangeOutcome> = {
  applied: 'applied',
  dryRun: 'dry_run',
  noChange: 'no_change',
  conflict: 'conflict',
  failed: 'error',
  unknown: 'error',
};

export interface IsolationPluginOptions {
  config: Config;
  upstream: Pick<UpstreamClients, 'isolation' | 'tenant' | 'tenantDiscovery'>;
  clock: Clock;
  /** A shared audit trail; by default one is built from config.auditStore. */
  auditStore?: AuditStore;
  /** A shared lock; by default an in-process one. */
  tenantLock?: TenantLock;
  /** What the policy trigger last saw; by default kept beside the audit trail (config.auditStore). */
  triggerSnapshots?: TriggerSnapshotStore;
}

export const isolationPlugin = relayPlugin<IsolationPluginOptions>(
  (app, deps) => {
    const { config } = deps;
    const auditStore =
      deps.auditStore ??
      createAuditStore(config.auditStore, {
        onBadLine: (line, reason) =>
          app.log.warn({ line, auditStore: config.auditStore }, `audit store: skipped line ${line}: ${reason}`),
      });
    // Closed last, after in-flight requests finished their writes.
    app.addHook('onClose', async () => auditStore.close());
    const isolation = new IsolationService({
      isolation: deps.upstream.isolation,
      tenant: deps.upstream.tenant,
      tenantDiscovery: deps.upstream.tenantDiscovery,
      auditStore,
      lock: deps.tenantLock ?? createInProcessTenantLock(),
      clock: deps.clock,
      onOutcome: (_action, outcome) => app.metrics.isolationChanged(METRIC_OUTCOME[outcome]),
      onAuditError: (err, changeId) =>
        app.log.error(
          { err, changeId },
          'audit store: a record could not be written (a missing completion reads as outcome unknown)',
        ),
    });
    registerIsolationRoutes(app, { isolation, config });
    registerDesiredStateRoutes(app, isolation);
    const trigger = new PolicyChangeTrigger({
      isolation: deps.upstream.isolation,
      auditStore,
      snapshots: deps.triggerSnapshots ?? createEmbeddedTriggerSnapshots(config.auditStore),
      clock: deps.clock,
    });
    registerTriggerRoutes(app, {
      trigger,
      ownTenantId: async (call) => tenantKey(await deps.upstream.tenant.getOwnTenantId(call)),
      config,
    });
  },
  {
    name: 'relay-isolation',
    dependencies: ['relay-auth', 'relay-openapi', 'relay-metrics'],
    decorators: { fastify: ['metrics'] },
    encapsulate: true,
  },
);
