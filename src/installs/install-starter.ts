// Starting an install: pre-checks, start-or-join through the registry (so identical concurrent
// calls make one upstream POST), and what to do when the POST fails or names no operation.
import { RelayError } from '../errors.js';
import { withUpstreamCorrelation } from '../http/upstream-error-mapping.js';
import { type InstallRecord, PACKAGE_STATE_OPERATION_ID } from '../state/install-registry.js';
import { UpstreamError } from '../upstream/errors.js';
import type { CallContext, RawApplicationPackage } from '../upstream/types.js';
import type { ResolvedPackage } from './environment-packages.js';
import { InstallOperation } from './install-operation.js';
import type { InstallServiceDeps, InstallStart } from './install-service-deps.js';
import { alreadyInstalledResult, isTerminal } from './install-status.js';
import { compareVersions, isInProgressState, isInstalledState, listedOperationId } from './package-model.js';

/** Upstream says the environment is busy with another package operation. */
const BUSY_MESSAGE = /busy|in progress|another (install|operation)|already (running|in progress)|currently|lifecycle operation|concurrent/i;

export class InstallStarter {
  constructor(private readonly d: InstallServiceDeps) {}

  private operation(record: InstallRecord): InstallOperation {
    return InstallOperation.of(this.d, record);
  }

  /** Start the install, or join the one already running (here or upstream). */
  async start(environmentId: string, given: string, callerLabel: string, ctx: CallContext): Promise<InstallStart> {
    const existing = await this.runningRecord(environmentId, given);
    if (existing) {
      this.operation(existing).rememberUser(ctx);
      this.d.log.info(this.fields(existing, callerLabel, 'install.join'), 'install joined (already running in this relay)');
      this.d.metrics?.installFinished('joined');
      return { kind: 'running', record: existing, joined: true };
    }
    // With a registry shared by replicas, the one whose start came first may have recorded the
    // install while this call queued: it is joined, never POSTed again.
    const { value, leader } = await this.d.registry.startOnce(
      environmentId,
      given,
      () => this.startFresh(environmentId, given, callerLabel, ctx),
      (record): InstallStart => ({ kind: 'running', record, joined: true }),
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
    this.operation(value.record).rememberUser(ctx);
    if (!leader || value.joined) {
      this.d.log.info(this.fields(value.record, callerLabel, 'install.join'), 'install joined');
      this.d.metrics?.installFinished('joined');
      return { ...value, joined: true };
    }
    this.d.log.info(this.fields(value.record, callerLabel, 'install.start'), 'install started');
    return value;
  }

  /**
   * A record for this env+package whose operation has not visibly ended. One past the install
   * deadline is joined afresh (the 422 InstallWaitTimedOut tells the flow to run the install again
   * to join it): the join gets a whole new deadline, not the old poller's ended wait.
   */
  private async runningRecord(environmentId: string, given: string): Promise<InstallRecord | undefined> {
    const record = await this.d.registry.get(environmentId, given);
    if (!record) return undefined;
    const operation = this.operation(record);
    const poller = operation.peekPoller();
    if (!poller?.ended) return record;
    const known = poller.lastKnown;
    if (known && isTerminal(known.status)) {
      // An answer from before this record (a status read of the same package) says nothing about it.
      if ((poller.terminalAt ?? 0) < Date.parse(record.startedAt)) {
        operation.forgetPoller();
        return record;
      }
      await this.d.registry.complete(environmentId, record.packageUniqueName, record.operationId);
      return undefined;
    }
    const rejoined: InstallRecord = { ...record, startedAt: new Date(this.d.clock.now()).toISOString() };
    await this.d.registry.put(rejoined);
    operation.forgetPoller();
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
    this.operation(record).forgetPoller();
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
    const operationId = (busy && listedOperationId(busy)) ?? PACKAGE_STATE_OPERATION_ID;
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
    return this.begin(
      {
        environmentId,
        packageUniqueName: pkg.uniqueName,
        operationId: listedOperationId(busy) ?? PACKAGE_STATE_OPERATION_ID,
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

function newestVersion(entries: RawApplicationPackage[]): string | null {
  let newest: string | null = null;
  for (const e of entries) if (e.version && compareVersions(e.version, newest) > 0) newest = e.version;
  return newest;
}
