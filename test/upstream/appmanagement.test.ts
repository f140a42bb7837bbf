// PPAPI appmanagement against the simulator: paging, installs to Succeeded and Failed, both
// install response styles, and the retry rules (429 + Retry-After honoured, 503 retried, the
// install POST never sent twice, a deadline that ends a retry storm).
import t from 'tap';
import { UpstreamError } from '../../src/upstream/errors.js';
import { type OperationSnapshot, TERMINAL_OPERATION_STATUSES, type UpstreamClients } from '../../src/upstream/types.js';
import { startUpstreamFixture } from '../helpers/upstream-fixture.js';

const DEFAULT_ENV = 'Default-7c3d9f2a-0b1e-4c5d-8e6f-9a0b1c2d3e4f';
const SALES = '3f2e1d0c-9b8a-4776-a554-433221100ffe';

async function waitForEnd(up: UpstreamClients, env: string, op: string, ctx: () => { correlationId: string }) {
  let snap: OperationSnapshot | undefined;
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    snap = await up.appManagement.getOperation(env, op, ctx());
    if (TERMINAL_OPERATION_STATUSES.includes(snap.status)) return snap;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`operation ${op} did not end: ${JSON.stringify(snap)}`);
}

t.test('appmanagement', async (t) => {
  const fx = await startUpstreamFixture();
  t.teardown(() => fx.close());
  const up = fx.upstream;
  const { control } = fx.sim;
  t.beforeEach(() => {
    control.reset();
    fx.clock.sleeps.length = 0;
  });

  t.test('list follows @odata.nextLink', async (t) => {
    const whole = await up.appManagement.listEnvironmentPackages(DEFAULT_ENV, {}, fx.ctx());
    t.ok(whole.length >= 4, `${whole.length} packages`);
    control.setOption('pageSize', 2);
    const before = control.calls({ route: 'ppapi.listPackages' }).length;
    const paged = await up.appManagement.listEnvironmentPackages(DEFAULT_ENV, {}, fx.ctx());
    const pages = control.calls({ route: 'ppapi.listPackages' }).length - before;
    t.same(paged.map((p) => `${p.uniqueName}@${p.version}`), whole.map((p) => `${p.uniqueName}@${p.version}`));
    t.equal(pages, Math.ceil(whole.length / 2), 'one request per page');
    const installed = await up.appManagement.listEnvironmentPackages(DEFAULT_ENV, { state: 'Installed', lcid: '1033' }, fx.ctx());
    t.ok(installed.every((p) => p.state === 'Installed'), 'appInstallState passed through');
    const call = control.calls({ route: 'ppapi.listPackages' }).at(-1)!;
    t.match(call.url, /appInstallState=Installed/);
    t.match(call.url, /api-version=2024-10-01/);
  });

  t.test('install to Succeeded', async (t) => {
    const ctx = fx.ctx();
    const started = await up.appManagement.installPackage(SALES, 'msdyn_ContosoSurveysAnchor', ctx);
    t.ok(started.operationId);
    t.match(started.operationUrl, /^https:\/\/127\.0\.0\.1:\d+\/appmanagement\/environments\/.+\/operations\//);
    const install = control.calls({ route: 'ppapi.install' }).at(-1)!;
    t.equal(install.clientRequestId, ctx.correlationId, 'x-ms-client-request-id = correlation id');
    const end = await waitForEnd(up, SALES, started.operationId, fx.ctx);
    t.equal(end.status, 'Succeeded');
    t.equal(control.packageState(SALES, 'msdyn_ContosoSurveysAnchor'), 'Installed');
  });

  t.test('install to Failed, with the upstream error', async (t) => {
    const started = await up.appManagement.installPackage(SALES, 'msdyn_SalesInsightsAddOn', fx.ctx());
    const end = await waitForEnd(up, SALES, started.operationId, fx.ctx);
    t.equal(end.status, 'Failed');
    t.equal(end.error?.errorName, 'SolutionImportFailed');
    t.match(end.error?.message, /Missing dependency/);
    t.equal(control.packageState(SALES, 'msdyn_SalesInsightsAddOn'), 'InstallFailed');
  });

  t.test('install answered with a body only (200 + lastOperation.operationId)', async (t) => {
    control.setOption('installResponse', 'body-200');
    const started = await up.appManagement.installPackage(DEFAULT_ENV, 'msdyn_FieldInspectionsAnchor', fx.ctx());
    t.ok(started.operationId);
    t.equal(started.operationUrl, undefined);
    t.equal((await waitForEnd(up, DEFAULT_ENV, started.operationId, fx.ctx)).status, 'Succeeded');
  });

  t.test('unknown package: the upstream 400 message comes through', async (t) => {
    const err = await up.appManagement.installPackage(SALES, 'NoSuchPackage', fx.ctx()).catch((e) => e);
    t.type(err, UpstreamError);
    t.equal(err.status, 400);
    t.match(err.message, /Package requested for installation was not found/);
    t.equal(control.calls({ route: 'ppapi.install' }).length, 1);
  });

  t.test('the install POST is never sent twice, even after a 503', async (t) => {
    control.addFault({ route: 'ppapi.install', kind: 'status', status: 503, times: 1 });
    const err = await up.appManagement.installPackage(SALES, 'ContosoExpenseApprovals', fx.ctx()).catch((e) => e);
    t.type(err, UpstreamError);
    t.equal(err.status, 503);
    t.equal(control.calls({ route: 'ppapi.install' }).length, 1, 'exactly one POST');
    t.same(fx.clock.sleeps, [], 'no retry wait');
  });

  t.test('the install POST is not replayed after a connection reset either', async (t) => {
    control.addFault({ route: 'ppapi.install', kind: 'reset', times: 1 });
    const err = await up.appManagement.installPackage(SALES, 'ContosoExpenseApprovals', fx.ctx()).catch((e) => e);
    t.equal(err.kind, 'network');
    t.match(err.message, /may or may not have reached upstream/);
    t.equal(control.calls({ route: 'ppapi.install' }).length, 1);
  });

  t.test('429 + Retry-After is honoured', async (t) => {
    control.addFault({ route: 'ppapi.listPackages', kind: 'status', status: 429, retryAfter: '3', times: 2 });
    const list = await up.appManagement.listEnvironmentPackages(SALES, {}, fx.ctx());
    t.ok(list.length > 0);
    t.same(fx.clock.sleeps, [3000, 3000], 'waited exactly what upstream asked, twice');
    t.equal(control.calls({ route: 'ppapi.listPackages' }).length, 3);
  });

  t.test('503 is retried to success with bounded backoff', async (t) => {
    control.addFault({ route: 'ppapi.listPackages', kind: 'status', status: 503, times: 2 });
    const list = await up.appManagement.listEnvironmentPackages(SALES, {}, fx.ctx());
    t.ok(list.length > 0);
    t.equal(control.calls({ route: 'ppapi.listPackages' }).length, 3);
    t.equal(fx.clock.sleeps.length, 2);
    t.ok(fx.clock.sleeps[0]! <= 500 && fx.clock.sleeps[1]! <= 1000, `jittered waits ${fx.clock.sleeps}`);
  });

  t.test('a deadline ends a retry storm', async (t) => {
    control.addFault({ route: 'ppapi.operation', kind: 'status', status: 503 });
    const ctx = fx.ctx({ deadline: fx.clock.now() + 15_000 });
    const err = await up.appManagement.getOperation(SALES, '0c9a7b2e-1d3f-4e5a-8b6c-7d8e9f0a1b2c', ctx).catch((e) => e);
    t.type(err, UpstreamError);
    t.equal(err.kind, 'deadline');
    const attempts = control.calls({ route: 'ppapi.operation' }).length;
    t.ok(attempts >= 2, `${attempts} attempts`);
    t.match(err.message, new RegExp(`gave up after ${attempts} attempts`));
    t.match(err.message, /HTTP 503/, 'names the last failure');
    t.equal(err.status, 503);
    t.ok(fx.clock.totalSleptMs < 15_000, 'never slept past the deadline');
  });

  t.test('a 409 on the operation poll means "not ready yet"', async (t) => {
    const started = await up.appManagement.installPackage(DEFAULT_ENV, 'ContosoExpenseApprovals', fx.ctx());
    control.addFault({ route: 'ppapi.operation', kind: 'status', status: 409, times: 1 });
    const snap = await up.appManagement.getOperation(DEFAULT_ENV, started.operationId, fx.ctx());
    t.equal(snap.status, 'Running');
    t.ok(snap.retryAfterSeconds! >= 1);
    t.equal((await waitForEnd(up, DEFAULT_ENV, started.operationId, fx.ctx)).status, 'Succeeded');
  });

  t.test('flat PPAPI error body and correlation id are captured', async (t) => {
    control.addFault({ route: 'ppapi.listPackages', kind: 'status', status: 400, envelope: 'ppapi', code: 'UnexpectedError', message: 'An unexpected error occurred.', times: 1 });
    const err = await up.appManagement.listEnvironmentPackages(SALES, {}, fx.ctx()).catch((e) => e);
    t.equal(err.status, 400);
    t.equal(err.code, 'UnexpectedError');
    t.equal(err.details.upstreamMessage, 'An unexpected error occurred.');
    t.ok(err.details.correlationId, 'x-ms-correlation-id captured');
  });
});
