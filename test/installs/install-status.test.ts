import t from 'tap';
import {
  alreadyInstalledResult,
  endsWait,
  engineRetryAfterSeconds,
  failureMessage,
  INSTALL_STATUSES,
  installResult,
  isTerminal,
  progressFromOperation,
  progressFromPackageState,
} from '../../src/installs/install-status.js';

const OP = '0c9a7b2e-1d3f-4e5a-8b6c-7d8e9f0a1b2c';

t.test("terminal statuses are upstream's; the relay adds none of its own", async (t) => {
  t.same(['NotStarted', 'Running', 'Succeeded', 'Failed', 'Canceled'].map((s) => isTerminal(s as never)), [false, false, true, true, true]);
  t.same([...INSTALL_STATUSES], ['NotStarted', 'Running', 'Succeeded', 'Failed', 'Canceled'], 'no TimedOut status');
});

t.test('a wait the relay deadline ended says so beside the status, and the message says it is no outcome', async (t) => {
  const p = { operationId: OP, status: 'Running' as const, startedAt: null, lastActionAt: null, statusMessage: null, error: null, waitTimedOut: true };
  const r = installResult(p, { environmentId: 'env', packageUniqueName: 'msdyn_X', packageVersion: '1.0' });
  t.match(r, { status: 'Running', waitTimedOut: true, completedAt: null });
  t.ok(endsWait(r));
  t.match(failureMessage(r), /stopped waiting.*INSTALL_DEADLINE_MINUTES.*not the install's outcome.*still reports it Running/);
  t.notOk(endsWait({ status: 'Running', waitTimedOut: false }));
});

t.test('a failed operation becomes a result with the upstream error and a message naming everything', async (t) => {
  const p = progressFromOperation({
    operationId: OP,
    status: 'Failed',
    createdDateTime: '2026-09-01T10:00:00.000Z',
    lastActionDateTime: '2026-09-01T10:01:10.500Z',
    statusMessage: 'Installation failed',
    error: { errorCode: -2147188475, errorName: 'SolutionImportFailed', message: 'Missing dependency msdyn_Base', source: 'Dataverse' },
  });
  const r = installResult(p, { environmentId: 'env', packageUniqueName: 'msdyn_X', packageVersion: '1.0' });
  t.equal(r.durationSeconds, 70.5);
  t.equal(r.completedAt, '2026-09-01T10:01:10.500Z');
  t.same(r.error, { code: '-2147188475', name: 'SolutionImportFailed', message: 'Missing dependency msdyn_Base', source: 'Dataverse' });
  const msg = failureMessage(r);
  t.match(msg, /"msdyn_X"/);
  t.match(msg, /Missing dependency msdyn_Base/);
  t.match(msg, new RegExp(OP));
});

t.test('a running operation has no completion time', async (t) => {
  const r = installResult(progressFromOperation({ operationId: OP, status: 'Running', createdDateTime: '2026-09-01T10:00:00Z' }), {
    environmentId: 'env',
    packageUniqueName: 'p',
    packageVersion: null,
  });
  t.equal(r.completedAt, null);
  t.equal(r.durationSeconds, null);
});

t.test('package state stands in for an unknown operation', async (t) => {
  const now = '2026-09-01T10:00:00.000Z';
  t.equal(progressFromPackageState([{ uniqueName: 'p', state: 'Installing' }], OP, now).status, 'Running');
  t.equal(progressFromPackageState([{ uniqueName: 'p', state: 'Installed' }], OP, now).status, 'Succeeded');
  const failed = progressFromPackageState([{ uniqueName: 'p', state: 'InstallFailed', errorDetails: { message: 'nope' } }], OP, now);
  t.equal(failed.status, 'Failed');
  t.equal(failed.error?.message, 'nope');
  t.equal(progressFromPackageState([{ uniqueName: 'p', state: 'None' }], OP, now).status, 'Canceled');
  t.equal(progressFromPackageState([{ uniqueName: 'p', state: 'Installed', version: '2.0' }], OP, now, '2.1').status, 'Canceled', 'an update that left the old version');
  t.equal(progressFromPackageState([{ uniqueName: 'p', state: 'Installed', version: '2.1' }], OP, now, '2.1').status, 'Succeeded');
});

t.test('already installed is a success with nothing started', async (t) => {
  const r = alreadyInstalledResult('env', 'p', '1.0');
  t.equal(r.status, 'Succeeded');
  t.equal(r.alreadyInstalled, true);
  t.equal(r.operationId, null);
});

t.test('Retry-After grows with the age of the install, never below upstream', async (t) => {
  t.equal(engineRetryAfterSeconds(0), 1);
  t.ok(engineRetryAfterSeconds(120_000) > engineRetryAfterSeconds(5_000));
  t.equal(engineRetryAfterSeconds(3_600_000), 30);
  t.equal(engineRetryAfterSeconds(0, 17), 17);
});
