// What the install services are built from, and the values they hand the routes.
import type { Clock } from '../clock.js';
import type { InstallRecord, InstallRegistry } from '../state/install-registry.js';
import type { AppManagementClient } from '../upstream/types.js';
import type { EnvironmentPackages } from './environment-packages.js';
import type { EnvironmentService } from './environment-service.js';
import type { InstallResult } from './install-status.js';
import type { PollPolicy } from './install-poller.js';
import type { OperationPollers } from './poller-pool.js';
import type { SharedPolling } from './shared-polling.js';
import type { OperationUserTokens } from './user-tokens.js';
import type { WaitRelease } from './wait-release.js';

export interface InstallLog {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface InstallServiceDeps {
  appManagement: AppManagementClient;
  environments: EnvironmentService;
  packages: EnvironmentPackages;
  registry: InstallRegistry;
  pollers: OperationPollers;
  clock: Clock;
  installDeadlineMs: number;
  /** Upper bound for one upstream status call, retries included. */
  pollCallDeadlineMs: number;
  pollPolicy?: PollPolicy;
  log: InstallLog;
  /** Set when upstream calls go on behalf of the user (UPSTREAM_AUTH=obo): the users' tokens the
   *  shared pollers borrow. Absent in app mode, so no user token is kept at all. */
  userTokens?: OperationUserTokens;
  /** Set with shared state (several replicas): one replica polls each operation upstream and the
   *  others read what it publishes. Absent in one process, which polls as it always has. */
  sharedPolling?: SharedPolling;
  /** Counts outcomes for /metrics (RelayMetrics fits). */
  metrics?: { installFinished(outcome: 'succeeded' | 'failed' | 'canceled' | 'already_installed' | 'joined' | 'timed_out'): void };
}

export type InstallStart =
  | { kind: 'alreadyInstalled'; result: InstallResult }
  | { kind: 'running'; record: InstallRecord; joined: boolean };

export interface ProgressOptions {
  /** Ends a held wait early with the current progress (shutdown, caller gone). */
  release?: WaitRelease;
  /** 'known': answer from what the relay already knows, without an upstream call (right after
   *  the POST, so the 202 never waits on a throttled status call). */
  freshness?: 'fresh' | 'known';
  /** The caller's own token (UPSTREAM_AUTH=obo): polls use it while this request is on. */
  userAssertion?: string;
  /** A status read, not a wait (GetInstallStatus): upstream's status as it is, without the install
   *  deadline, which is the relay's patience for the waits it holds and not a fact about the install. */
  reading?: boolean;
}

export interface InstallView {
  result: InstallResult;
  /** Seconds the engine should wait before asking again (while running). */
  retryAfter: number;
}

/** What following one operation needs (no environment checks: those belong to starting). */
export type InstallOperationDeps = Pick<
  InstallServiceDeps,
  'appManagement' | 'packages' | 'registry' | 'pollers' | 'clock' | 'installDeadlineMs' | 'pollCallDeadlineMs' | 'pollPolicy' | 'log' | 'metrics' | 'userTokens' | 'sharedPolling'
>;
