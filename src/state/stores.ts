// createStateStores: the one place that picks where shared state lives. "embedded" keeps today's
// zero-setup behaviour (this process plus the audit file); "postgres" puts every seam in one
// PostgreSQL database shared by all replicas, after bringing its schema up to date.
import type { TokenCredential } from '@azure/identity';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import type { AuditStore } from './audit-store.js';
import { createAuditStore } from './audit-store-factory.js';
import { InMemoryInstallRegistry, type InstallRegistry } from './install-registry.js';
import { createInProcessTenantLock, type TenantLock } from './tenant-lock.js';
import type { InstallProgressStore } from './install-progress.js';
import { createEmbeddedLeaseStore, type LeaseStore } from './leases.js';
import { type ChangeNotifier, createEmbeddedNotifier } from './notifier.js';
import type { RolloutStore } from './rollout-store.js';
import { createEmbeddedTriggerSnapshots, type TriggerSnapshotStore } from './trigger-snapshots.js';
import { createMemoryRolloutStore } from './rollout-store.js';
import { createFileRolloutStore, rolloutFileBesideAudit } from './rollout-store-file.js';

export interface StateReadiness {
  ok: boolean;
  detail: string;
}

export interface StateStores {
  kind: Config['stateStore'];
  auditStore: AuditStore;
  tenantLock: TenantLock;
  installRegistry: InstallRegistry;
  leases: LeaseStore;
  notifier: ChangeNotifier;
  /** The last known progress of each install, shared by replicas; absent when embedded (one process). */
  installProgress?: InstallProgressStore;
  /** What polling triggers last saw, by policy revision. */
  triggerSnapshots: TriggerSnapshotStore;
  /** Rollout records (embedded: a file beside the audit file, or memory with AUDIT_STORE=memory). */
  rollouts: RolloutStore;
  /** For /readyz: can this replica reach its state right now? Always ok when embedded. */
  checkReady(): Promise<StateReadiness>;
  close(): Promise<void>;
}

export interface StateStoreOptions {
  clock?: Clock;
  /** Warnings worth a log line (a skipped audit line, the notice connection breaking). */
  warn?: (fields: Record<string, unknown>, message: string) => void;
  /** The relay's own credential for DATABASE_AUTH=entra; built from config when absent. */
  credential?: TokenCredential;
}

const READY_TIMEOUT_MS = 3_000;

export async function createStateStores(
  config: Config,
  options: StateStoreOptions = {},
): Promise<StateStores> {
  const clock = options.clock ?? systemClock;
  const warn = options.warn ?? (() => {});
  if (config.stateStore === 'embedded' || !config.database) {
    const notifier = createEmbeddedNotifier();
    const rollouts = createEmbeddedRolloutStore(config, warn);
    const auditStore = createAuditStore(config.auditStore, {
      onBadLine: (line, reason) =>
        warn({ line, auditStore: config.auditStore }, `audit store: skipped line ${line}: ${reason}`),
    });
    return {
      kind: 'embedded',
      auditStore,
      tenantLock: createInProcessTenantLock(),
      installRegistry: new InMemoryInstallRegistry(config.installDeadlineMs, () => clock.now()),
      leases: createEmbeddedLeaseStore(clock),
      notifier,
      triggerSnapshots: createEmbeddedTriggerSnapshots(config.auditStore),
      rollouts,
      checkReady: async () => ({ ok: true, detail: 'embedded state' }),
      async close() {
        await notifier.close();
        await rollouts.close();
        await auditStore.close();
      },
    };
  }

  // Loaded only for STATE_STORE=postgres: pg and node-pg-migrate cost an embedded start ~240 ms.
  const [
    { createPostgresAuditStore },
    { entraPassword, relayCredential },
    { createPostgresInstallProgressStore },
    { PostgresInstallRegistry },
    { createPostgresLeaseStore },
    { migrate },
    { createPostgresNotifier },
    { clientConfig, createPool },
    { createPostgresTenantLock },
    { createPostgresTriggerSnapshots },
    { createPostgresRolloutStore },
  ] = await Promise.all([
    import('./postgres/audit-store.js'),
    import('./postgres/entra-password.js'),
    import('./postgres/install-progress.js'),
    import('./postgres/install-registry.js'),
    import('./postgres/leases.js'),
    import('./postgres/migrate.js'),
    import('./postgres/notifier.js'),
    import('./postgres/pool.js'),
    import('./postgres/tenant-lock.js'),
    import('./postgres/trigger-snapshots.js'),
    import('./postgres/rollout-store.js'),
  ]);
  const db = config.database;
  const password =
    db.auth === 'entra' ? entraPassword(options.credential ?? relayCredential(config)) : undefined;
  const passwordOption = password ? { password } : {};
  const pool = createPool(db, {
    ...passwordOption,
    onIdleError: (err) =>
      warn({ err: err.message }, 'database: an idle connection failed; it will be replaced'),
  });
  try {
    const client = await pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => {});
    throw new Error(
      `STATE_STORE=postgres: could not prepare the database at DATABASE_URL: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const notifier = createPostgresNotifier(pool, {
    listenConfig: clientConfig(db, passwordOption),
    onState: (state, err) => {
      if (state === 'reconnecting')
        warn({ err: err?.message }, 'database: the change-notice connection broke; reconnecting');
    },
  });
  // Usually a few milliseconds; if it takes longer the notifier keeps trying and readiness says so.
  await Promise.race([notifier.ready(), new Promise((r) => setTimeout(r, 5_000).unref())]);
  return {
    kind: 'postgres',
    auditStore: createPostgresAuditStore(pool),
    tenantLock: createPostgresTenantLock(pool),
    installRegistry: new PostgresInstallRegistry(pool, {
      maxAgeMs: config.installDeadlineMs,
      now: () => clock.now(),
    }),
    leases: createPostgresLeaseStore(pool),
    notifier,
    installProgress: createPostgresInstallProgressStore(pool),
    triggerSnapshots: createPostgresTriggerSnapshots(pool),
    rollouts: createPostgresRolloutStore(pool),
    async checkReady() {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          pool.query('select 1'),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)),
              READY_TIMEOUT_MS,
            );
          }),
        ]);
      } catch (err) {
        return { ok: false, detail: `database unreachable: ${(err as Error).message}` };
      } finally {
        clearTimeout(timer);
      }
      if (!notifier.listening)
        return { ok: false, detail: 'database reachable, change notices reconnecting' };
      return { ok: true, detail: 'database reachable' };
    },
    async close() {
      await notifier.close();
      await pool.end();
    },
  };
}

/** The embedded rollout records: a file beside the audit file, so a restart resumes them. */
export function createEmbeddedRolloutStore(
  config: Pick<Config, 'auditStore'>,
  warn: (fields: Record<string, unknown>, message: string) => void = () => {},
): RolloutStore {
  const file = rolloutFileBesideAudit(config.auditStore);
  if (!file) return createMemoryRolloutStore();
  return createFileRolloutStore(file, (line) =>
    warn({ line, file }, `rollout store: skipped unreadable line ${line}`),
  );
}
