// InstallPackage over HTTP against the simulator: the async pattern to the end without
// credentials, failures, already installed, joining (50 concurrent → one POST; an install
// already under way upstream), busy and throttled upstream answers, and the install log.
import { captureLogs } from '../helpers/capture-logs.js';
import t from 'tap';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/seed.js';
import { startStack } from '../helpers/stack.js';
import { followLikeEngine } from './packages-engine.js';

const ENV = DEMO_ENVIRONMENTS.sales;
const install = (name: string, query = '') => `/v1/environments/${ENV}/packages/${name}/install${query}`;

type LogLine = { event?: string; status?: string; [k: string]: unknown };
const logs = captureLogs({ level: 'info' });
const { logger } = logs;

t.test('install', async (t) => {
  const stack = await startStack({ logger });
  t.teardown(() => stack.close());
  const posts = () => stack.sim.control.calls({ route: 'ppapi.install' }).length;

  t.test('a flow-engine client follows 202/Location/Retry-After to the result, using only the signed URL', async (t) => {
    const first = await stack.request('POST', install('msdyn_ContosoSurveysAnchor'));
    t.equal(first.status, 202);
    t.match(first.headers.location, new RegExp(`^${stack.baseUrl}/v1/environments/${ENV}/operations/[0-9a-f-]{36}/wait\\?package=msdyn_ContosoSurveysAnchor&version=3\\.1\\.0\\.12&sig=`));
    t.match(first.headers['retry-after'], /^\d+$/);
    t.ok(Number(first.headers['retry-after']) >= 1);
    t.match(first.body, { operationId: /^[0-9a-f-]{36}$/, environmentId: ENV, packageUniqueName: 'msdyn_ContosoSurveysAnchor', status: /NotStarted|Running/ });
    t.equal(first.body.statusUrl, first.headers.location);
    const run = await followLikeEngine(first);
    t.equal(run.final.status, 200);
    t.match(run.final.body, {
      operationId: first.body.operationId,
      environmentId: ENV,
      packageUniqueName: 'msdyn_ContosoSurveysAnchor',
      packageVersion: '3.1.0.12',
      status: 'Succeeded',
      alreadyInstalled: false,
      error: null,
    });
    t.type(run.final.body.durationSeconds, 'number');
    t.ok(run.final.body.completedAt);
    t.equal(posts(), 1);
    t.equal(stack.sim.control.packageState(ENV, 'msdyn_ContosoSurveysAnchor'), 'Installed');

    const again = await stack.request('POST', install('msdyn_ContosoSurveysAnchor'));
    t.equal(again.status, 200, 'the same install again: already installed');
    t.match(again.body, { status: 'Succeeded', alreadyInstalled: true, packageVersion: '3.1.0.12' });
    t.equal(posts(), 1, 'no second POST');
  });

  t.test('already installed at the offered version: 200 at once, no POST', async (t) => {
    const before = posts();
    const res = await stack.request('POST', install('MicrosoftFormsPro'));
    t.equal(res.status, 200);
    t.match(res.body, { status: 'Succeeded', alreadyInstalled: true, packageVersion: '1.0.2.0', operationId: null });
    t.equal(posts(), before);
  });

  t.test('an update available is installed (installed version older than offered)', async (t) => {
    const res = await stack.request('POST', install('msdyn_AppDeploymentAnchor', '?waitSeconds=30'));
    t.equal(res.status, 200);
    t.match(res.body, { status: 'Succeeded', alreadyInstalled: false, packageVersion: '2.1.0.8' });
  });

  t.test('a failed install fails the action with 422 naming package, upstream message and operation', async (t) => {
    const first = await stack.request('POST', install('msdyn_SalesInsightsAddOn'));
    t.equal(first.status, 202);
    const run = await followLikeEngine(first);
    t.equal(run.final.status, 422);
    t.equal(run.final.body.error.code, 'InstallFailed');
    t.match(run.final.body.error.message, /msdyn_SalesInsightsAddOn/);
    t.match(run.final.body.error.message, /Missing dependency msdyn_Base/);
    t.match(run.final.body.error.message, first.body.operationId);
    t.match(run.final.body.error.details, { status: 'Failed', error: { name: 'SolutionImportFailed', code: '-2147188475' } });
  });

  t.test('failOnError=false carries into Location and answers 200 with status Failed', async (t) => {
    // The previous failure left the package InstallFailed; a new install retries it.
    const first = await stack.request('POST', install('msdyn_SalesInsightsAddOn', '?failOnError=false'));
    t.equal(first.status, 202);
    t.match(first.headers.location, /failOnError=false/);
    const run = await followLikeEngine(first);
    t.equal(run.final.status, 200);
    t.match(run.final.body, { status: 'Failed', error: { message: 'Missing dependency msdyn_Base' } });
  });

  t.test('a canceled install answers 422 InstallCanceled', async (t) => {
    const first = await stack.request('POST', install('msdyn_PortalMigrationTool'));
    const run = await followLikeEngine(first);
    t.equal(run.final.status, 422);
    t.equal(run.final.body.error.code, 'InstallCanceled');
    t.match(run.final.body.error.message, /msdyn_PortalMigrationTool.*canceled/);
    t.match(run.final.body.error.message, /Canceled by the service/);
  });

  t.test('waitSeconds on InstallPackage answers 200 as soon as the install ends', async (t) => {
    const started = Date.now();
    const res = await stack.request('POST', install('msdyn_FieldInspectionsAnchor', '?waitSeconds=60'));
    t.equal(res.status, 200);
    t.match(res.body, { status: 'Succeeded', packageUniqueName: 'msdyn_FieldInspectionsAnchor' });
    t.ok(Date.now() - started < 30_000, 'did not hold for the whole waitSeconds');
  });

  t.test('the install log names caller, environment, package and operation for every event', async (t) => {
    const events = logs.lines<LogLine>().filter((l) => typeof l.event === 'string' && l.event.startsWith('install.'));
    const kinds = new Set(events.map((e) => e.event));
    for (const k of ['install.start', 'install.alreadyInstalled', 'install.finished', 'install.result']) t.ok(kinds.has(k), k);
    const start = events.find((e) => e.event === 'install.start');
    t.match(start, { caller: /apikey:/, environmentId: ENV, packageUniqueName: /./, operationId: /^[0-9a-f-]{36}$/ });
    const finished = events.find((e) => e.event === 'install.finished' && e.status === 'Failed');
    t.match(finished, { caller: /apikey:/, environmentId: ENV, packageUniqueName: 'msdyn_SalesInsightsAddOn', upstreamMessage: 'Missing dependency msdyn_Base' });
    t.notOk(logs.text().includes(stack.apiKey), 'the API key is never logged');
  });
});

t.test('50 identical concurrent installs cause one upstream POST and share one result', async (t) => {
  // 50 engine clients polling at a tenth of Retry-After on one URL would trip the per-URL rate limit.
  const stack = await startStack({ speed: 20, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  t.teardown(() => stack.close());
  const answers = await Promise.all(Array.from({ length: 50 }, () => stack.request('POST', install('ContosoExpenseApprovals'))));
  t.same([...new Set(answers.map((a) => a.status))], [202]);
  t.equal(new Set(answers.map((a) => a.body.operationId)).size, 1, 'one operation');
  t.equal(stack.sim.control.calls({ route: 'ppapi.install' }).length, 1, 'the simulator saw one POST');
  const runs = await Promise.all(answers.map((a) => followLikeEngine(a)));
  t.same([...new Set(runs.map((r) => r.final.status))], [200], JSON.stringify(runs.find((r) => r.final.status !== 200)?.final.body));
  t.same([...new Set(runs.map((r) => r.final.body.status))], ['Succeeded']);
  t.equal(stack.sim.control.calls({ route: 'ppapi.install' }).length, 1);
  const statusCalls = stack.sim.control.calls({ route: 'ppapi.operation' }).length;
  const relayPolls = runs.reduce((n, r) => n + r.polls, 0);
  t.ok(statusCalls < relayPolls / 5, `upstream status calls (${statusCalls}) far fewer than engine polls (${relayPolls})`);
});

t.test('both upstream install answer styles (Operation-Location, or the operation id in a 200 body) work', async (t) => {
  const stack = await startStack({ speed: 50 });
  t.teardown(() => stack.close());
  stack.sim.control.setOption('installResponse', 'body-200');
  const res = await stack.request('POST', install('msdyn_ContosoSurveysAnchor', '?waitSeconds=30'));
  t.equal(res.status, 200);
  t.match(res.body, { status: 'Succeeded', operationId: /^[0-9a-f-]{36}$/ });
});

for (const kind of ['status', 'reset'] as const) {
  t.test(`an install POST that started upstream but answered ${kind === 'status' ? '503' : 'with a reset'} is followed, not replayed`, async (t) => {
    const stack = await startStack({ speed: 10 });
    t.teardown(() => stack.close());
    stack.sim.control.addFault({ route: 'ppapi.install', kind, ...(kind === 'status' ? { status: 503 } : {}), after: true, times: 1 });
    const first = await stack.request('POST', install('msdyn_ContosoSurveysAnchor'));
    t.equal(first.status, 202, 'the relay re-read the package state and found the install under way');
    t.equal(stack.sim.control.calls({ route: 'ppapi.install' }).length, 1, 'one POST');
    const run = await followLikeEngine(first);
    t.equal(run.final.status, 200);
    t.equal(run.final.body.status, 'Succeeded');
    t.equal(stack.sim.control.calls({ route: 'ppapi.install' }).length, 1, 'still one POST');
  });
}

t.test('an install already under way upstream is joined, not POSTed again', async (t) => {
  const stack = await startStack({ speed: 10 });
  t.teardown(() => stack.close());
  // Someone else (the admin center) started it: straight to upstream, unknown to the relay.
  await stack.upstream.appManagement.installPackage(ENV, 'msdyn_ContosoSurveysAnchor', { correlationId: 'outside' });
  const first = await stack.request('POST', install('msdyn_ContosoSurveysAnchor'));
  t.equal(first.status, 202);
  t.equal(stack.sim.control.calls({ route: 'ppapi.install' }).length, 1, 'no second POST');
  const run = await followLikeEngine(first);
  t.equal(run.final.status, 200);
  t.equal(run.final.body.status, 'Succeeded');
});

t.test('busy and throttled upstream answers become answers the engine can act on', async (t) => {
  const stack = await startStack({ speed: 1 });
  t.teardown(() => stack.close());
  const first = await stack.request('POST', install('msdyn_ContosoSurveysAnchor'));
  t.equal(first.status, 202);

  const busy = await stack.request('POST', install('msdyn_FieldInspectionsAnchor'));
  t.equal(busy.status, 409);
  t.equal(busy.body.error.code, 'EnvironmentBusy');
  t.match(busy.body.error.message, /busy with another package operation.*Retry after \d+ seconds/);
  t.match(busy.headers['retry-after'], /^\d+$/);

  stack.sim.control.setOption('busyStatus', 400);
  const bare = await stack.request('POST', install('msdyn_FieldInspectionsAnchor'));
  t.equal(bare.status, 409, 'a bare 400 while another install runs is recognised as busy');
  t.equal(bare.body.error.code, 'EnvironmentBusy');

  const other = DEMO_ENVIRONMENTS.default;
  stack.sim.control.addFault({ route: 'ppapi.install', kind: 'status', status: 429, retryAfter: '17', times: 1 });
  const throttled = await stack.request('POST', `/v1/environments/${other}/packages/msdyn_FieldInspectionsAnchor/install`);
  t.equal(throttled.status, 429);
  t.equal(throttled.headers['retry-after'], '17', 'upstream Retry-After passed on');

  const postsBefore = stack.sim.control.calls({ route: 'ppapi.install' }).length;
  stack.sim.control.addFault({ route: 'ppapi.install', kind: 'status', status: 503, times: 1 });
  const failing = await stack.request('POST', `/v1/environments/${other}/packages/msdyn_FieldInspectionsAnchor/install`);
  t.equal(failing.status, 503);
  t.equal(failing.body.error.code, 'InstallNotStarted');
  t.equal(stack.sim.control.calls({ route: 'ppapi.install' }).length, postsBefore + 1, 'the POST was not replayed');
});
