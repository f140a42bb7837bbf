// Builds the install area's services from the app's collaborators, once per app.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { createWaitUrlSigner } from './wait-url.js';
import type { UpstreamClients } from '../upstream/types.js';
import { EnvironmentPackages } from './environment-packages.js';
import { InstallFinishedTrigger } from './install-finished-trigger.js';
import { createEmbeddedTriggerSnapshots, type TriggerSnapshotStore } from '../state/trigger-snapshots.js';
import { EnvironmentService } from './environment-service.js';
import { type InstallLog, InstallService, type InstallServiceDeps } from './install-service.js';
import { WaitUrls } from './wait-url.js';
import { DEFAULT_POLL_POLICY, type PollPolicy } from './install-poller.js';
import { OperationPollers } from './poller-pool.js';
import { InMemoryInstallRegistry, type InstallRegistry } from '../state/install-registry.js';
import { OperationUserTokens } from './user-tokens.js';
import { SharedPolling, type SharedPollingStores } from './shared-polling.js';

export interface InstallServices {
  config: Config;
  environments: EnvironmentService;
  packages: EnvironmentPackages;
  installs: InstallService;
  waitUrls: WaitUrls;
  /** Stops hearing other replicas' progress notices (nothing to stop in one process). */
  close(): void;
  installFinished: InstallFinishedTrigger;
}

export interface InstallWiringDeps {
  config: Config;
  upstream: UpstreamClients;
  clock: Clock;
  log: InstallLog;
  metrics?: InstallServiceDeps['metrics'];
  /** Faster or slower polling (tests, the benchmark). */
  pollPolicy?: Partial<PollPolicy>;
  /** A shared registry for several replicas; in-process by default. */
  registry?: InstallRegistry;
  /** Several replicas (STATE_STORE=postgres): poller leases, progress notices and the shared
   *  progress, so one replica polls each operation upstream. */
  shared?: SharedPollingStores;
  /** What the install-finished trigger last saw; by default kept beside the audit trail. */
  triggerSnapshots?: TriggerSnapshotStore;
}

export function createInstallServices(d: InstallWiringDeps): InstallServices {
  const environments = new EnvironmentService(d.upstream.environments, () => d.clock.now());
  const packages = new EnvironmentPackages(d.upstream.appManagement, environments);
  // Without WAIT_URL_SECRET (simulator mode only, config enforces it for live) the URLs are
  // signed with a per-process secret: they then only work on this process.
  const secret = d.config.waitUrlSecret ?? randomBytes(32).toString('base64url');
  const waitUrls = new WaitUrls(createWaitUrlSigner(secret, d.config.waitUrlTtlMs), () => d.clock.now());
  const pollers = new OperationPollers(d.clock);
  const sharedPolling = d.shared
    ? new SharedPolling(d.shared, {
        // Readable in the lease table: which host and process polls an operation.
        replicaId: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
        onError: (err) =>
          d.log.warn(
            { event: 'install.sharedStateFailed', err: (err as Error).message },
            'shared install progress unavailable; polling upstream from this replica',
          ),
      })
    : undefined;
  const stopListening = sharedPolling?.listen(pollers);
  const installs = new InstallService({
    appManagement: d.upstream.appManagement,
    environments,
    packages,
    registry: d.registry ?? new InMemoryInstallRegistry(d.config.installDeadlineMs, () => d.clock.now()),
    pollers,
    ...(sharedPolling && { sharedPolling }),
    clock: d.clock,
    installDeadlineMs: d.config.installDeadlineMs,
    pollCallDeadlineMs: Math.min(d.config.upstreamDeadlineMs, 20_000),
    pollPolicy: { ...DEFAULT_POLL_POLICY, ...d.pollPolicy },
    log: d.log,
    metrics: d.metrics,
    // On behalf of the user, the shared pollers need a user's token (only then is one kept).
    ...(d.config.upstreamAuth === 'obo' ? { userTokens: new OperationUserTokens(() => d.clock.now()) } : {}),
  });
  const installFinished = new InstallFinishedTrigger({
    packages,
    environments,
    snapshots: d.triggerSnapshots ?? createEmbeddedTriggerSnapshots(d.config.auditStore),
    clock: d.clock,
  });
  return {
    config: d.config,
    environments,
    packages,
    installs,
    waitUrls,
    installFinished,
    close: () => stopListening?.(),
  };
}
