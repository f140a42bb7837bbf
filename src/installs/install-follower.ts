// Following an install: the progress of one operation, read at once or held (long poll) until it
// ends, from the one poller the operation shares with every other caller.
import { RelayError } from '../errors.js';
import { type InstallRecord, PACKAGE_STATE_OPERATION_ID } from '../state/install-registry.js';
import { UpstreamError } from '../upstream/errors.js';
import { InstallOperation } from './install-operation.js';
import type { InstallServiceDeps, InstallView, ProgressOptions } from './install-service-deps.js';
import { engineRetryAfterSeconds, type InstallProgress, installResult, isTerminal } from './install-status.js';

/** How long a status read without waitSeconds may wait on a slow upstream call when a recent answer exists. */
const QUICK_READ_MS = 3_000;

export class InstallFollower {
  constructor(private readonly d: InstallServiceDeps) {}

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
    const operation = new InstallOperation(this.d, environmentId, operationId, packageUniqueName, record, packageVersion);
    const poller = operation.poller();
    const asWaited = (p: InstallProgress) => (reading ? p : poller.withDeadline(p));
    // obo: this request's token serves the polls while it is on, and is remembered for the
    // engine's polls without credentials; with no token at all, say why instead of a 502 later.
    const { key } = operation;
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
        operation.forgetPoller();
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
