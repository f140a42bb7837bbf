// Install a package and wait: pre-checks, start-or-join, one POST at most, and progress from one
// shared poller per operation. The routes turn what this returns into 200/202/422 answers.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import {
  alreadyInstalledResult,
  engineRetryAfterSeconds,
  type InstallProgress,
  type InstallResult,
  installResult,
  isTerminal,
  progressFromOperation,
  progressFromPackageState,
} from './install-status.js';
import { compareVersions, isInProgressState, isInstalledState } from './package-model.js';
import { RelayError } from '../errors.js';
import { withUpstreamCorrelation } from '../http/upstream-error-mapping.js';
import { UpstreamError } from '../upstream/errors.js';
import type { AppManagementClient, CallContext, RawApplicationPackage } from '../upstream/types.js';
import type { EnvironmentPackages, ResolvedPackage } from './environment-packages.js';
import type { EnvironmentService } from './environment-service.js';
import type { PollPolicy } from './install-poller.js';
import type { OperationPollers } from './poller-pool.js';
import { type InstallRecord, type InstallRegistry, PACKAGE_STATE_OPERATION_ID } from '../state/install-registry.js';
import type { OperationUserTokens } from './user-tokens.js';

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
  /** Counts outcomes for /metrics (RelayMetrics fits). */
  metrics?: { installFinished(outcome: 'succeeded' | 'failed' | 'canceled' | 'already_installed' | 'joined' | 'timed_out'): void };
}

export type InstallStart =
  | { kind: 'alreadyInstalled'; result: InstallResult }
  | { kind: 'running'; record: InstallRecord; joined: boolean };

/** Upstream says the environment is busy with another package operation. */
const BUSY_MESSAGE = /busy|in progress|another (install|operation)|already (running|in progress)|currently|lifecycle operation|concurrent/i;

/** How long a status read without waitSeconds may wait on a slow upstream call when a recent answer exists. */
const QUICK_READ_MS = 3_000;

/**
 * An install upstream accepted without an operation id is followed through the package list,
 * which may not show it under way at once: for this long after the POST, a package that has not
 * yet been seen under way reads as NotStarted instead of Canceled or Failed (an earlier attempt's
 * InstallFailed row), so the flow is not told to start it again while it may be running.
 */
const UNLISTED_INSTALL_GRACE_MS = 2 * 60_000;

export interface ProgressOptions {
  /** Ends a held wait early with the current progress (shutdown, caller gone). */
  release?: AbortSignal;
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

export class InstallService {
  constructor(private readonly d: InstallServiceDeps) {}

  /** Start the install, or join the one already running (here or upstream). */
  async start(environmentId: string, given: string, callerLabel: string, ctx: CallContext): Promise<InstallStart> {
    const existing = await this.runningRecord(environmentId, given);
    if (existing) {
      this.rememberUser(existing, ctx);
      this.d.log.info(this.fields(existing, callerLabel, 'install.join'), 'install joined (already running in this relay)');
      this.d.metrics?.installFinished('joined');
      return { kind: 'running', record: existing, joined: true };
    }
    const { value, leader } = await this.d.registry.startOnce(environmentId, given, () =>
      this.startFresh(environmentId, given, callerLabel, ctx),
    );
    if (value.kind === 'alreadyInstalled') {
      const r = value.result;
      this.d.log.info(
        { event: 'install.alreadyInstalled', caller: callerLabel, environmentId, packageUniqueName: r.packageUniqueName, packageVersion: r.packageVersion },
        'install not needed: package already installed',
      );
      this.d.metrics?.installFinished('already_installed');
      return value;
    }
    this.rememberUser(value.record, ctx);
    if (!leader || value.joined) {
      this.d.log.info(this.fields(value.record, callerLabel, 'install.join'), 'install joined');
      this.d.metrics?.installFinished('joined');
      return { ...value, joined: true };
    }
    this.d.log.info(this.fields(value.record, callerLabel, 'install.start'), 'install started');
    return value;
  }

  /** Progress of an operation; holds up to waitMs for it to end (long poll). */
  async progress(
    environmentId: string,
    operationId: string,
    ids: { packageUniqueName: string | null; packageVersion: string | null },
    waitMs: number,
    options: ProgressOptions = {},
  ): Promise<InstallView> {
    const { release, freshness = 'fresh', userAssertion, reading = false } = options;
    // The all-zero id is shared by every install followed through package state: only the package tells them apart.
    const found = ids.packageUniqueName
      ? await this.d.registry.get(environmentId, ids.packageUniqueName)
      : operationId === PACKAGE_STATE_OPERATION_ID
        ? undefined
        : await this.d.registry.findByOperation(environmentId, operationId);
    // A record of a later install of the same package says nothing about this operation. An
    // install that has ended is recalled, so its answer still names the package and version.
    const record =
      (found && found.operationId.toLowerCase() === operationId.toLowerCase() ? found : undefined) ??
      (await this.d.registry.recall(environmentId, operationId, ids.packageUniqueName));
    const packageUniqueName = ids.packageUniqueName ?? record?.packageUniqueName ?? null;
    if (operationId === PACKAGE_STATE_OPERATION_ID && !packageUniqueName) {
      throw new RelayError(
        400,
        'PackageRequired',
        'This install is followed through the package state, so the request needs ?package=<unique name>; use the Location URL exactly as InstallPackage returned it.',
        { target: 'package' },
      );
    }
    const packageVersion = ids.packageVersion ?? record?.packageVersion ?? null;
    const poller = this.pollerFor(environmentId, operationId, packageUniqueName, record, packageVersion);
    const asWaited = (p: InstallProgress) => (reading ? p : poller.withDeadline(p));
    // obo: this request's token serves the polls while it is on, and is remembered for the
    // engine's polls without credentials; with no token at all, say why instead of a 502 later.
    const key = this.pollerKey(environmentId, operationId, packageUniqueName);
    const tokens = this.d.userTokens;
    if (tokens && userAssertion) tokens.remember(key, userAssertion);
    const ended = poller.lastKnown && isTerminal(poller.lastKnown.status);
    if (tokens && !userAssertion && !ended && !tokens.pick(key)) throw noUserToken(operationId);
    const detach = tokens && userAssertion ? tokens.attach(key, userAssertion) : undefined;
    let progress: InstallProgress;
    try {
      // Nothing known yet: read once first, so an unknown operation is a 404 now, not after the hold.
      if (waitMs > 0 && !poller.lastKnown && freshness === 'fresh') await poller.snapshot();
      if (waitMs > 0) progress = await poller.wait(waitMs, release);
      else if (freshness === 'known') progress = asWaited(poller.lastKnown ?? notStarted(operationId, record));
      else progress = asWaited(await poller.snapshot(QUICK_READ_MS));
    } catch (err) {
      if (err instanceof UpstreamError && err.status === 404) {
        this.d.pollers.forget(this.pollerKey(environmentId, operationId, packageUniqueName));
        throw new RelayError(
          404,
          'OperationNotFound',
          `Environment ${environmentId} has no install operation ${operationId}. Check both ids; an operation id only works with the environment it was started in.`,
          { target: 'operationId', upstreamStatus: 404 },
        );
      }
      throw err;
    } finally {
      detach?.();
    }
    const result = installResult(progress, {
      environmentId,
      packageUniqueName,
      packageVersion,
      startedAt: record?.startedAt ?? null,
    });
    const elapsed = this.d.clock.now() - poller.startedAtMs();
    return { result, retryAfter: engineRetryAfterSeconds(elapsed, progress.upstreamRetryAfter) };
  }

  /** Requests held open right now, across all operations. */
  get waiting(): number {
    return this.d.pollers.waiting;
  }

  /**
   * A record for this env+package whose operation has not visibly ended. One past the install
   * deadline is joined afresh (the 422 InstallWaitTimedOut tells the flow to run the install again
   * to join it): the join gets a whole new deadline, not the old poller's ended wait.
   */
  private async runningRecord(environmentId: string, given: string): Promise<InstallRecord | undefined> {
    const record = await this.d.registry.get(environmentId, given);
    if (!record) return undefined;
    const key = this.pollerKey(environmentId, record.operationId, record.packageUniqueName);
    const poller = this.d.pollers.peek(key);
    if (!poller?.ended) return record;
    const known = poller.lastKnown;
    if (known && isTerminal(known.status)) {
      // An answer from before this record (a status read of the same package) says nothing about it.
      if ((poller.terminalAt ?? 0) < Date.parse(record.startedAt)) {
        this.d.pollers.forget(key);
        return record;
      }
      await this.d.registry.complete(environmentId, record.packageUniqueName, record.operationId);
      return undefined;
    }
    const rejoined: InstallRecord = { ...record, startedAt: new Date(this.d.clock.now()).toISOString() };
    await this.d.registry.put(rejoined);
    this.d.pollers.forget(key);
    return rejoined;
  }

  /**
   * A record this relay just created (started, or joined from upstream's state): any poller left
   * under the same key belongs to an earlier install (a package-state key is shared by every
   * install of that package; an operation may have timed out here), and its ended answer or old
   * deadline must not be reported for this one.
   */
  private async begin(record: InstallRecord, joined: boolean): Promise<InstallStart> {
    await this.d.registry.put(record);
    this.d.pollers.forget(this.pollerKey(record.environmentId, record.operationId, record.packageUniqueName));
    return { kind: 'running', record, joined };
  }

  private async startFresh(environmentId: string, given: string, callerLabel: string, ctx: CallContext): Promise<InstallStart> {
    await this.d.environments.requireDataverse(environmentId, ctx);
    const raw = await this.d.packages.raw(environmentId, ctx);
    const pkg = this.d.packages.resolve(environmentId, given, raw);

    const installed = pkg.entries.find((e) => isInstalledState(e.state));
    const newest = newestVersion(pkg.entries);
    if (installed && compareVersions(installed.version, newest) >= 0) {
      return { kind: 'alreadyInstalled', result: alreadyInstalledResult(environmentId, pkg.uniqueName, installed.version ?? null) };
    }
    const underWay = await this.underWay(environmentId, pkg, callerLabel);
    if (underWay) return underWay;

    const record = (operationId: string): InstallRecord => ({
      environmentId,
      packageUniqueName: pkg.uniqueName,
      operationId,
      packageVersion: newest,
      startedAt: new Date(this.d.clock.now()).toISOString(),
      startedBy: callerLabel,
    });
    try {
      const started = await this.d.appManagement.installPackage(environmentId, pkg.uniqueName, ctx);
      if (started.refusedOperationOrigin) {
        this.d.log.warn(
          { event: 'install.operationUrlRefused', environmentId, packageUniqueName: pkg.uniqueName, operationId: started.operationId, host: started.refusedOperationOrigin },
          `upstream named an install status URL on ${started.refusedOperationOrigin}, not on the configured Power Platform API host (PPAPI_BASE_URL); the relay does not send its token there and polls the status URL it builds instead`,
        );
      }
      const fresh = record(started.operationId);
      return await this.begin(started.operationUrl ? { ...fresh, operationUrl: started.operationUrl } : fresh, false);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      if (err.code === 'InstallOperationUnknown') return this.acceptedWithoutOperation(environmentId, pkg, record, err, ctx);
      const rejoined = await this.afterFailedPost(environmentId, pkg, err, callerLabel, ctx);
      if (rejoined) return rejoined;
      throw err;
    }
  }

  /**
   * Upstream accepted the install (2xx) but named no operation. It was started, so it must never
   * be POSTed again: follow it through the package state (docs/decisions.md), under the operation
   * id upstream's package list gives when it already shows one.
   */
  private async acceptedWithoutOperation(
    environmentId: string,
    pkg: ResolvedPackage,
    record: (operationId: string) => InstallRecord,
    err: UpstreamError,
    ctx: CallContext,
  ): Promise<InstallStart> {
    const reread = await this.d.packages.raw(environmentId, ctx).catch(() => undefined);
    const busy = reread?.find((e) => e.uniqueName === pkg.uniqueName && isInProgressState(e.state));
    const listed = (busy?.['lastOperation'] as { operationId?: unknown } | undefined)?.operationId;
    const operationId = typeof listed === 'string' && listed !== '' ? listed : PACKAGE_STATE_OPERATION_ID;
    this.d.log.warn(
      { event: 'install.noOperationId', environmentId, packageUniqueName: pkg.uniqueName, operationId, upstreamStatus: err.status },
      'upstream accepted the install without an operation id; following it through the package state',
    );
    const r = record(operationId);
    return this.begin(operationId === PACKAGE_STATE_OPERATION_ID ? { ...r, acceptedWithoutOperation: true } : r, false);
  }

  /** Upstream already shows an install of this package under way: join it instead of POSTing. */
  private async underWay(environmentId: string, pkg: ResolvedPackage, callerLabel: string): Promise<InstallStart | undefined> {
    const busy = pkg.entries.find((e) => isInProgressState(e.state));
    if (!busy) return undefined;
    if (busy.state === 'UninstallRequested' || busy.state === 'Uninstalling') {
      throw new RelayError(
        409,
        'PackageBusy',
        `Package "${pkg.uniqueName}" is being uninstalled in environment ${environmentId}; run the install again once that has finished.`,
        { retryAfter: 60 },
      );
    }
    const lastOperation = busy['lastOperation'] as { operationId?: string } | undefined;
    return this.begin(
      {
        environmentId,
        packageUniqueName: pkg.uniqueName,
        operationId: lastOperation?.operationId || PACKAGE_STATE_OPERATION_ID,
        packageVersion: busy.version ?? null,
        startedAt: new Date(this.d.clock.now()).toISOString(),
        startedBy: callerLabel,
      },
      true,
    );
  }

  /**
   * The POST failed. Busy and throttled answers become answers the flow engine can act on. A
   * timeout or 5xx may have started the install anyway, so re-read the package state instead of
   * POSTing again (the POST is not idempotent upstream).
   */
  private async afterFailedPost(
    environmentId: string,
    pkg: ResolvedPackage,
    err: UpstreamError,
    callerLabel: string,
    ctx: CallContext,
  ): Promise<InstallStart | undefined> {
    const status = err.status;
    const said = err.details.upstreamMessage ?? err.message;
    const busy = () => {
      const retryAfter = err.details.retryAfterSeconds ?? 60;
      return new RelayError(
        409,
        'EnvironmentBusy',
        `Environment ${environmentId} is busy with another package operation, and Power Platform runs one at a time per environment. Retry after ${retryAfter} seconds. Upstream said: "${said}".`,
        { upstreamStatus: status, retryAfter },
      );
    };
    if (status === 409 || (status === 400 && BUSY_MESSAGE.test(said))) throw busy();
    if (status === 400 && !/not found/i.test(said)) {
      // Some tenants answer a busy environment with a bare 400: look for the other operation.
      const reread = await this.d.packages.raw(environmentId, ctx).catch(() => undefined);
      if (reread?.some((e) => isInProgressState(e.state))) throw busy();
      return undefined;
    }
    if (status === 400) {
      throw new RelayError(
        404,
        'PackageNotFound',
        `Power Platform did not find package "${pkg.uniqueName}" for environment ${environmentId} although the environment lists it; it is usually not available in the environment's region. Upstream said: "${said}".`,
        { upstreamStatus: status, target: 'uniqueName' },
      );
    }
    // Unknown outcome: no answer or a 5xx (an accepted install without an operation id is handled before).
    const uncertain =
      err.kind === 'timeout' || err.kind === 'network' || err.kind === 'deadline' || (status !== undefined && status >= 500);
    if (!uncertain) return undefined;
    const reread = await this.d.packages.raw(environmentId, ctx).catch(() => undefined);
    const entries = reread?.filter((e) => e.uniqueName === pkg.uniqueName);
    if (entries?.some((e) => isInProgressState(e.state))) {
      this.d.log.warn({ event: 'install.postUncertain', environmentId, packageUniqueName: pkg.uniqueName, upstreamStatus: status }, 'install POST failed but upstream shows the install under way; following it');
      return await this.underWay(environmentId, { ...pkg, entries }, callerLabel);
    }
    const corr = err.details.correlationId;
    throw new RelayError(
      503,
      'InstallNotStarted',
      `Power Platform failed while starting the install of "${pkg.uniqueName}" and shows no install under way, so nothing was started; retry later. Upstream said: "${said}"${corr ? ` (upstream correlation id ${corr})` : ''}.`,
      {
        upstreamStatus: status,
        retryAfter: err.details.retryAfterSeconds ?? 30,
        ...(corr ? { details: withUpstreamCorrelation(err.details.extra, corr) } : {}),
      },
    );
  }

  private pollerKey(environmentId: string, operationId: string, packageUniqueName: string | null): string {
    const env = environmentId.toLowerCase();
    return operationId === PACKAGE_STATE_OPERATION_ID
      ? `${env}/package/${(packageUniqueName ?? '').toLowerCase()}`
      : `${env}/operation/${operationId.toLowerCase()}`;
  }

  pollerFor(
    environmentId: string,
    operationId: string,
    packageUniqueName: string | null,
    record?: InstallRecord,
    packageVersion: string | null = record?.packageVersion ?? null,
  ) {
    const key = this.pollerKey(environmentId, operationId, packageUniqueName);
    // One outcome per operation: an install that timed out here and ended upstream later is
    // counted once, as timed out (what the flows were told).
    let counted = false;
    const count = (outcome: 'succeeded' | 'failed' | 'canceled' | 'timed_out') => {
      if (counted) return;
      counted = true;
      this.d.metrics?.installFinished(outcome);
    };
    // Accepted without an operation id: the package list may not show it yet (see the grace).
    const listedBy = record?.acceptedWithoutOperation ? Date.parse(record.startedAt) + UNLISTED_INSTALL_GRACE_MS : 0;
    let seenUnderWay = false;
    const fetch = async () => {
      const p = await this.fetchProgress(environmentId, operationId, packageUniqueName, packageVersion, this.d.userTokens?.pick(key), record?.operationUrl);
      if (p.status === 'Running') seenUnderWay = true;
      const unlisted = !seenUnderWay && (p.status === 'Canceled' || p.status === 'Failed') && this.d.clock.now() < listedBy;
      if (!unlisted) return p;
      return { ...p, status: 'NotStarted' as const, error: null, statusMessage: 'Power Platform accepted the install but does not list it as under way yet.' };
    };
    return this.d.pollers.get(key, () => ({
      operationId,
      deadlineMs: this.d.installDeadlineMs,
      knownSince: record ? Date.parse(record.startedAt) : undefined,
      // Started or joined by this relay at record.startedAt: the deadline counts from then.
      deadlineFromKnownSince: record !== undefined,
      policy: this.d.pollPolicy,
      fetch,
      onTimedOut: (p) => {
        count('timed_out');
        this.d.log.warn(
          { event: 'install.timedOut', caller: record?.startedBy ?? null, environmentId, packageUniqueName, operationId, lastStatus: p.status },
          'install did not end within the install deadline (INSTALL_DEADLINE_MINUTES)',
        );
      },
      onTerminal: (p) => {
        if (packageUniqueName) void this.d.registry.complete(environmentId, packageUniqueName, operationId);
        count(p.status === 'Succeeded' ? 'succeeded' : p.status === 'Canceled' ? 'canceled' : 'failed');
        this.d.log.info(
          {
            event: 'install.finished',
            caller: record?.startedBy ?? null,
            environmentId,
            packageUniqueName,
            operationId,
            status: p.status,
            upstreamMessage: p.error?.message ?? p.statusMessage,
          },
          `install ${p.status.toLowerCase()}`,
        );
      },
      onPollError: (err) =>
        this.d.log.warn({ event: 'install.pollFailed', environmentId, operationId, err: (err as Error).message }, 'install status poll failed; backing off'),
    }));
  }

  /** obo: the caller's token outlives its request, for the polls their flow makes without one. */
  private rememberUser(record: InstallRecord, ctx: CallContext) {
    if (!this.d.userTokens || !ctx.userAssertion) return;
    this.d.userTokens.remember(this.pollerKey(record.environmentId, record.operationId, record.packageUniqueName), ctx.userAssertion);
  }

  private async fetchProgress(
    environmentId: string,
    operationId: string,
    packageUniqueName: string | null,
    expectedVersion: string | null,
    userAssertion: string | undefined,
    operationUrl: string | undefined,
  ): Promise<InstallProgress> {
    const ctx: CallContext = {
      correlationId: `poll-${randomUUID()}`,
      deadline: this.d.clock.now() + this.d.pollCallDeadlineMs,
      ...(userAssertion ? { userAssertion } : {}),
    };
    if (operationId !== PACKAGE_STATE_OPERATION_ID) {
      return progressFromOperation(await this.d.appManagement.getOperation(environmentId, operationId, ctx, operationUrl));
    }
    const raw = await this.d.packages.raw(environmentId, ctx);
    const entries = raw.filter((e) => e.uniqueName === packageUniqueName);
    return progressFromPackageState(entries, operationId, new Date(this.d.clock.now()).toISOString(), expectedVersion);
  }

  private fields(r: InstallRecord, caller: string, event: string) {
    return {
      event,
      caller,
      environmentId: r.environmentId,
      packageUniqueName: r.packageUniqueName,
      operationId: r.operationId,
      startedBy: r.startedBy,
    };
  }
}

/** obo mode, a poll without credentials, and no user token to ask upstream with. */
function noUserToken(operationId: string): RelayError {
  return new RelayError(
    401,
    'UserTokenUnavailable',
    `This relay calls Power Platform on behalf of the signed-in user (UPSTREAM_AUTH=obo) and holds no valid token of a user for install ${operationId}: the token of whoever started it has expired, or another relay replica started it. With UPSTREAM_AUTH=obo the wait URL must be polled on the replica that started the install within that user's token lifetime, or with the connection's credentials; run the relay with UPSTREAM_AUTH=app to poll without these limits.`,
    { target: 'operationId', headers: { 'www-authenticate': 'Bearer realm="admin-relay"' } },
  );
}

function notStarted(operationId: string, record: InstallRecord | undefined): InstallProgress {
  return { operationId, status: 'NotStarted', startedAt: record?.startedAt ?? null, lastActionAt: null, statusMessage: null, error: null };
}

function newestVersion(entries: RawApplicationPackage[]): string | null {
  let newest: string | null = null;
  for (const e of entries) if (e.version && compareVersions(e.version, newest) > 0) newest = e.version;
  return newest;
}
