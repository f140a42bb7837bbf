// One install the relay follows, as one value: which environment, operation and package it is, the
// registry record it was started or joined under (when there is one), the key its poller and the
// users' tokens share, and the poller itself. Everything that follows an install goes through it,
// so the key is computed in one place and a shared poller (a lease, a change notifier) can be
// handed in where the poller is made.
import { randomUUID } from 'node:crypto';
import { type InstallRecord, PACKAGE_STATE_OPERATION_ID } from '../state/install-registry.js';
import type { CallContext } from '../upstream/types.js';
import type { InstallOperationDeps } from './install-service-deps.js';
import type { OperationPoller } from './install-poller.js';
import { type InstallProgress, progressFromOperation, progressFromPackageState } from './install-status.js';

/**
 * An install upstream accepted without an operation id is followed through the package list,
 * which may not show it under way at once: for this long after the POST, a package that has not
 * yet been seen under way reads as NotStarted instead of Canceled or Failed (an earlier attempt's
 * InstallFailed row), so the flow is not told to start it again while it may be running.
 */
const UNLISTED_INSTALL_GRACE_MS = 2 * 60_000;

/** The key an operation's poller and user tokens share: the package for the all-zero id (every
 *  install followed through package state has it), the operation otherwise. */
export function installKey(environmentId: string, operationId: string, packageUniqueName: string | null): string {
  const env = environmentId.toLowerCase();
  return operationId === PACKAGE_STATE_OPERATION_ID
    ? `${env}/package/${(packageUniqueName ?? '').toLowerCase()}`
    : `${env}/operation/${operationId.toLowerCase()}`;
}

export class InstallOperation {
  readonly key: string;

  constructor(
    private readonly d: InstallOperationDeps,
    readonly environmentId: string,
    readonly operationId: string,
    readonly packageUniqueName: string | null,
    readonly record?: InstallRecord,
    readonly packageVersion: string | null = record?.packageVersion ?? null,
  ) {
    this.key = installKey(environmentId, operationId, packageUniqueName);
  }

  /** The operation a registry record names. */
  static of(d: InstallOperationDeps, record: InstallRecord): InstallOperation {
    return new InstallOperation(d, record.environmentId, record.operationId, record.packageUniqueName, record);
  }

  /** The poller if one exists; none is created. */
  peekPoller(): OperationPoller | undefined {
    return this.d.pollers.peek(this.key);
  }

  /** Drops the poller (unless someone is waiting on it): its answer belongs to an earlier install. */
  forgetPoller(): void {
    this.d.pollers.forget(this.key);
  }

  /** obo: the caller's token outlives its request, for the polls their flow makes without one. */
  rememberUser(ctx: Pick<CallContext, 'userAssertion'>): void {
    if (!this.d.userTokens || !ctx.userAssertion) return;
    this.d.userTokens.remember(this.key, ctx.userAssertion);
  }

  /** The one poller every caller of this operation shares, created on first use. */
  poller(): OperationPoller {
    const { environmentId, operationId, packageUniqueName, record, key } = this;
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
    const fromUpstream = () => this.fetchProgress(this.d.userTokens?.pick(key));
    // Operation ids are unique, so their shared progress can never be an earlier install's; the
    // package-state key is reused by every install of the package, so those are polled per replica.
    const shared = this.d.sharedPolling && operationId !== PACKAGE_STATE_OPERATION_ID ? this.d.sharedPolling : undefined;
    const fetchShared = shared ? shared.fetch(key, fromUpstream) : fromUpstream;
    const fetch = async () => {
      const p = await fetchShared();
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

  private async fetchProgress(userAssertion: string | undefined): Promise<InstallProgress> {
    const { environmentId, operationId, packageUniqueName, packageVersion: expectedVersion } = this;
    const operationUrl = this.record?.operationUrl;
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
}
