// InstallPackage when something about the same package is already known: an earlier status read
// of it, an upstream that accepts the install without naming an operation, an install past the
// relay's deadline, and a relay behind a proxy with a path prefix. Over HTTP against the simulator.
import t from 'tap';
import { PACKAGE_STATE_OPERATION_ID } from '../../src/state/install-registry.js';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/seed.js';
import { startStack } from '../helpers/stack.js';
import { followLikeEngine, getAbsolute } from './packages-engine.js';
import { JumpClock } from '../helpers/fast-clock.js';

const ENV = DEMO_ENVIRONMENTS.sales;
const install = (name: string, query = '') => `/v1/environments/${ENV}/packages/${name}/install${query}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('an earlier status read of the package does not answer for a new install of it', async (t) => {
  const stack = await startStack({ speed: 1e-9 }); // upstream holds every install where it is
  t.teardown(() => stack.close());
  const name = 'msdyn_FieldInspectionsAnchor';
  const idle = await stack.request('GET', `/v1/environments/${ENV}/operations/${PACKAGE_STATE_OPERATION_ID}?package=${name}`);
  t.equal(idle.status, 200);
  t.equal(idle.body.status, 'Canceled', 'nothing under way: the package-state read ends as Canceled');

  // Upstream accepts without an operation id: the relay follows the package state, the same key.
  stack.sim.control.setOption('installResponse', 'bare-202');
  const started = await stack.request('POST', install(name));
  t.equal(started.status, 202, JSON.stringify(started.body));
  t.match(started.body, { operationId: PACKAGE_STATE_OPERATION_ID, status: /NotStarted|Running/ });
  t.match(started.headers.location, new RegExp(`/operations/${PACKAGE_STATE_OPERATION_ID}/wait\\?package=${name}&`));
  const held = await getAbsolute(`${started.headers.location}&waitSeconds=1`);
  t.equal(held.status, 202, `a held wait sees the running install, not the old answer: ${JSON.stringify(held.body)}`);

  stack.sim.control.setSpeed(50);
  const run = await followLikeEngine(held);
  t.equal(run.final.status, 200, JSON.stringify(run.final.body));
  t.match(run.final.body, { status: 'Succeeded', packageUniqueName: name, operationId: PACKAGE_STATE_OPERATION_ID });
  t.equal(stack.sim.control.calls({ route: 'ppapi.install' }).length, 1, 'one POST');
});

t.test('an install accepted without an operation id is followed, never POSTed twice', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const name = 'ContosoExpenseApprovals';
  const posts = () => stack.sim.control.calls({ route: 'ppapi.install' }).length;
  stack.sim.control.setOption('installResponse', 'bare-202');
  // The package list read right after the POST fails (or does not show the install yet): the
  // relay cannot see it under way, but upstream did accept it.
  stack.sim.control.addFault({ route: 'ppapi.install', kind: 'latency', latencyMs: 600, times: 1 });
  const answer = stack.request('POST', install(name));
  while (posts() === 0) await sleep(10);
  stack.sim.control.addFault({ route: 'ppapi.listPackages', kind: 'status', status: 400, times: 1 });
  const first = await answer;
  t.equal(first.status, 202, JSON.stringify(first.body));
  t.match(first.body, { operationId: PACKAGE_STATE_OPERATION_ID, packageUniqueName: name });
  t.match(first.headers.location, new RegExp(`/operations/${PACKAGE_STATE_OPERATION_ID}/wait\\?package=${name}&`));

  const retry = await stack.request('POST', install(name));
  t.ok([200, 202].includes(retry.status), `a retry joins (${retry.status})`);
  t.equal(posts(), 1, 'the retry did not POST again');

  const run = await followLikeEngine(first);
  t.equal(run.final.status, 200, JSON.stringify(run.final.body));
  t.match(run.final.body, { status: 'Succeeded', packageUniqueName: name, alreadyInstalled: false });
  t.equal(posts(), 1, 'one POST in all');
  t.equal(stack.sim.control.packageState(ENV, name), 'Installed');
});

t.test("the install deadline counts from the relay's start, and the advice of the 422 works", async (t) => {
  const clock = new JumpClock();
  const stack = await startStack({ speed: 1e-9, clock, env: { INSTALL_DEADLINE_MINUTES: '1' } });
  t.teardown(() => stack.close());
  const name = 'msdyn_ContosoSurveysAnchor';
  // The relay's clock runs 30 s ahead of upstream's: upstream's createdDateTime looks 30 s old.
  clock.skewMs = 30_000;
  const started = await stack.request('POST', install(name));
  t.equal(started.status, 202);

  clock.skewMs += 35_000; // 35 s after the relay started it
  const midway = await getAbsolute(started.headers.location!);
  t.equal(midway.status, 202, `within the deadline as the relay counts it: ${JSON.stringify(midway.body)}`);
  const joined = await stack.request('POST', install(name));
  t.equal(joined.status, 202, `InstallPackage again joins the running install: ${JSON.stringify(joined.body)}`);
  t.equal(joined.body.operationId, started.body.operationId);

  clock.skewMs += 30_000; // 65 s: past the deadline
  const late = await getAbsolute(started.headers.location!);
  t.equal(late.status, 422);
  t.equal(late.body.error.code, 'InstallWaitTimedOut');
  t.match(late.body.error.message, /run InstallPackage again to join it/);
  t.match(late.body.error.message, /not the install's outcome/);
  t.match(late.body.error.details, { status: 'NotStarted', waitTimedOut: true }, "the install's own status beside the ended wait");
  const again = await stack.request('POST', install(name));
  t.equal(again.status, 202, `running it again, as the 422 advises, joins with a fresh deadline: ${JSON.stringify(again.body)}`);
  t.equal(stack.sim.control.calls({ route: 'ppapi.install' }).length, 1, 'without a second POST');
  stack.sim.control.setSpeed(50);
  const run = await followLikeEngine(again);
  t.equal(run.final.status, 200, JSON.stringify(run.final.body));
  t.equal(run.final.body.status, 'Succeeded');
});

t.test('behind a trusted proxy, Location keeps PUBLIC_BASE_URL path prefix and scheme', async (t) => {
  const stack = await startStack({ env: { TRUST_PROXY: 'true' } });
  t.teardown(() => stack.close());
  stack.sim.control.setSpeed(1e-9);
  stack.config.publicBaseUrl = 'https://gw.contoso.com/admin-relay';
  const viaProxy = await stack.request('POST', install('msdyn_FieldInspectionsAnchor'), { headers: { 'x-forwarded-host': 'gw.contoso.com' } });
  t.equal(viaProxy.status, 202);
  t.match(viaProxy.headers.location, /^https:\/\/gw\.contoso\.com\/admin-relay\/v1\/environments\/[^/]+\/operations\/[0-9a-f-]{36}\/wait\?/);
  const other = await stack.request('POST', install('msdyn_FieldInspectionsAnchor'), {
    headers: { 'x-forwarded-host': 'relay.fabrikam.com', 'x-forwarded-proto': 'http' },
  });
  t.equal(other.status, 202);
  t.match(other.headers.location, /^http:\/\/relay\.fabrikam\.com\/admin-relay\/v1\/environments\//, 'the forwarded scheme wins when given');
  const direct = await stack.request('POST', install('msdyn_FieldInspectionsAnchor'));
  t.match(direct.headers.location, /^https:\/\/gw\.contoso\.com\/admin-relay\/v1\//, 'no forwarded host: PUBLIC_BASE_URL');

  // The prefixed URL is the one the gateway forwards, minus its prefix: the signature still holds.
  const path = new URL(viaProxy.headers.location!).pathname.replace(/^\/admin-relay/, '') + new URL(viaProxy.headers.location!).search;
  const polled = await getAbsolute(`${stack.baseUrl}${path}`);
  t.equal(polled.status, 202, JSON.stringify(polled.body));
});
