// InstallService against a scripted upstream, for two upstream behaviours the simulator does not
// show: a package list that names the running operation (lastOperation.operationId), and a package
// list that lags behind an install it just accepted. Everything from InstallService down is real;
// only the upstream clients are scripted.
import t from 'tap';
import { PACKAGE_STATE_OPERATION_ID } from '../../src/state/install-registry.js';
import { EnvironmentPackages } from '../../src/installs/environment-packages.js';
import { EnvironmentService } from '../../src/installs/environment-service.js';
import { InstallService } from '../../src/installs/install-service.js';
import { OperationPollers } from '../../src/installs/poller-pool.js';
import { InMemoryInstallRegistry } from '../../src/state/install-registry.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import type { AppManagementClient, EnvironmentsClient, OperationSnapshot, RawApplicationPackage } from '../../src/upstream/types.js';
import type { Clock } from '../../src/clock.js';
import { JumpClock } from '../helpers/fast-clock.js';

const ENV = 'env-1';
const OP = '6a1f0c3e-2b4d-4e5f-8a9b-0c1d2e3f4a5b';
const DEADLINE_MS = 60_000;
const ctx = { correlationId: 'test' };
const ids = { packageUniqueName: 'msdyn_X', packageVersion: null };

function scriptedUpstream(o: { state: () => string; lastOperation?: boolean; acceptWithoutId?: boolean; operationCreated?: number }) {
  let posts = 0;
  const environments: EnvironmentsClient = {
    list: async () => [],
    get: async (id) => ({ id, displayName: 'Env', hasDataverse: true }),
  };
  const appManagement: AppManagementClient = {
    listEnvironmentPackages: async (): Promise<RawApplicationPackage[]> => {
      const state = o.state();
      const row: RawApplicationPackage = { uniqueName: 'msdyn_X', version: '1.0.0.0', state };
      if (o.lastOperation && state === 'Installing') row['lastOperation'] = { operationId: OP, state };
      return [row];
    },
    installPackage: async () => {
      posts++;
      if (o.acceptWithoutId)
        throw new UpstreamError('ppapi', 'http', 'accepted without an operation id', { status: 202, code: 'InstallOperationUnknown' });
      return { operationId: OP };
    },
    getOperation: async (): Promise<OperationSnapshot> => ({
      operationId: OP,
      status: o.state() === 'Installed' ? 'Succeeded' : 'Running',
      createdDateTime: new Date(o.operationCreated ?? 0).toISOString(),
    }),
  };
  return { environments, appManagement, posts: () => posts };
}

function service(upstream: ReturnType<typeof scriptedUpstream>, clock: Clock, registryMaxAgeMs = DEADLINE_MS) {
  const environments = new EnvironmentService(upstream.environments, () => clock.now());
  return new InstallService({
    appManagement: upstream.appManagement,
    environments,
    packages: new EnvironmentPackages(upstream.appManagement, environments),
    registry: new InMemoryInstallRegistry(registryMaxAgeMs, () => clock.now()),
    pollers: new OperationPollers(clock),
    clock,
    installDeadlineMs: DEADLINE_MS,
    pollCallDeadlineMs: 5_000,
    pollPolicy: { initialMs: 20, factor: 1, maxMs: 20, jitter: 0, minMs: 10, heldMaxMs: 20 },
    log: { info() {}, warn() {} },
  });
}

for (const [what, registryMaxAgeMs] of [
  ['the record has expired (upstream lists the operation)', DEADLINE_MS],
  ['the record is still kept (a registry that keeps records longer)', 10 * DEADLINE_MS],
] as const) {
  t.test(`after a wait timed out, InstallPackage again joins with a fresh deadline: ${what}`, async (t) => {
    const clock = new JumpClock();
    let state = 'None';
    const upstream = scriptedUpstream({ state: () => state, lastOperation: true, operationCreated: clock.now() });
    const installs = service(upstream, clock, registryMaxAgeMs);
    const first = await installs.start(ENV, 'msdyn_X', 'me', ctx);
    t.equal(first.kind, 'running');
    state = 'Installing';
    t.equal((await installs.progress(ENV, OP, ids, 0)).result.status, 'Running');

    clock.skewMs += DEADLINE_MS + 1_000;
    t.match((await installs.progress(ENV, OP, ids, 0)).result, { status: 'Running', waitTimedOut: true }, 'past the deadline');
    t.match(
      (await installs.progress(ENV, OP, ids, 0, { reading: true })).result,
      { status: 'Running', waitTimedOut: false },
      "a status read reports upstream's status, not the wait",
    );

    const again = await installs.start(ENV, 'msdyn_X', 'me', ctx);
    t.equal(again.kind, 'running');
    if (again.kind !== 'running') return;
    t.equal(again.record.operationId, OP, 'the same operation');
    t.equal(upstream.posts(), 1, 'no second POST');
    const known = await installs.progress(ENV, OP, ids, 0, { freshness: 'known' });
    t.equal(known.result.waitTimedOut, false, 'the answer to the join is not the old timed-out wait');
    const held = await installs.progress(ENV, OP, ids, 200);
    t.equal(held.result.status, 'Running', 'a held wait after the join runs its course');
    clock.skewMs += DEADLINE_MS / 2;
    t.equal((await installs.progress(ENV, OP, ids, 0)).result.status, 'Running', 'half a deadline after the join: still running');
    state = 'Installed';
    t.equal((await installs.progress(ENV, OP, ids, 1_000)).result.status, 'Succeeded');
  });
}

t.test('an install accepted without an operation id: a package list that lags is not a cancel', async (t) => {
  const clock = new JumpClock();
  let state = 'None';
  const upstream = scriptedUpstream({ state: () => state, acceptWithoutId: true });
  const installs = service(upstream, clock);
  const started = await installs.start(ENV, 'msdyn_X', 'me', ctx);
  t.equal(started.kind, 'running');
  if (started.kind !== 'running') return;
  t.equal(started.record.operationId, PACKAGE_STATE_OPERATION_ID);
  t.equal(started.joined, false, 'our POST started it');

  const early = await installs.progress(ENV, PACKAGE_STATE_OPERATION_ID, ids, 100);
  t.equal(early.result.status, 'NotStarted', 'not listed yet: not Canceled');
  const retry = await installs.start(ENV, 'msdyn_X', 'me', ctx);
  t.equal(retry.kind, 'running', 'a retry joins');
  t.equal(upstream.posts(), 1, 'and does not POST again');

  state = 'Installing';
  t.equal((await installs.progress(ENV, PACKAGE_STATE_OPERATION_ID, ids, 100)).result.status, 'Running');
  state = 'Installed';
  t.equal((await installs.progress(ENV, PACKAGE_STATE_OPERATION_ID, ids, 1_000)).result.status, 'Succeeded');
});

t.test('accepted without an operation id and never listed: Canceled once the grace has passed', async (t) => {
  const clock = new JumpClock();
  const upstream = scriptedUpstream({ state: () => 'None', acceptWithoutId: true });
  const installs = service(upstream, clock);
  await installs.start(ENV, 'msdyn_X', 'me', ctx);
  t.equal((await installs.progress(ENV, PACKAGE_STATE_OPERATION_ID, ids, 100)).result.status, 'NotStarted');
  clock.skewMs += 3 * 60_000;
  t.equal((await installs.progress(ENV, PACKAGE_STATE_OPERATION_ID, ids, 500)).result.status, 'Canceled');
});
