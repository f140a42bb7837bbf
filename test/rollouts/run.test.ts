// A real rollout over a small fleet: one POST where an install is needed and none where current,
// busy and throttled environments retried within the rollout, failures with upstream's message
// and operation id, the 202 + Location answer and failOnError, the stop rule and cancel.
import t from 'tap';
import { waitFor } from '../helpers/wait-for.js';
import { acceptedPosts, FLEET_PACKAGE, fleetEnvironmentId, rolloutEnded, row, startFleet } from './fleet.js';

t.test('install or update across 30 environments, busy ones retried, failures reported', async (t) => {
  const stack = await startFleet(30);
  t.teardown(() => stack.close());
  const res = await stack.request('POST', '/v1/rollouts', {
    body: { packageUniqueName: FLEET_PACKAGE, filter: { displayNamePattern: 'Fleet *' }, maxConcurrent: 5, reason: 'quarterly update' },
  });
  t.equal(res.status, 202);
  t.match(res.headers.location, new RegExp(`/v1/rollouts/${res.body.rolloutId}/wait\\?sig=`));
  t.ok(Number(res.headers['retry-after']) > 0);
  const r = await rolloutEnded(stack, res.body.rolloutId);
  t.equal(r.status, 'PartiallySucceeded');
  const posts = acceptedPosts(stack);
  for (const e of r.environments) {
    const expected = e.status === 'Succeeded' || e.status === 'Failed' ? 1 : 0;
    t.equal(posts.get(e.environmentId) ?? 0, expected, `${e.environmentName} (${e.status}): ${expected} POST`);
  }
  // Environments 2 and 17 are busy for the first 120 simulated seconds (2.4 s here).
  t.match(row(r, 2), { status: 'Succeeded', toVersion: '2.0.0.0' }, 'a busy environment succeeded after waiting');
  t.match(row(r, 17), { status: 'Succeeded', toVersion: '2.0.0.0' }, 'a busy environment succeeded after waiting');
  const failed = row(r, 5);
  t.match(failed, { status: 'Failed', errorCode: 'InstallFailed' });
  t.match(failed.error, /A required component is missing/);
  t.ok(failed.operationId && failed.error.includes(failed.operationId), 'the failure names the operation id');
  t.match(row(r, 9), { status: 'Succeeded', fromVersion: '1.0.0.0', toVersion: '2.0.0.0' });
  t.match(row(r, 7), { status: 'Skipped', skipReason: 'AlreadyCurrent' });
  t.equal(stack.sim.control.packageState(fleetEnvironmentId(9), FLEET_PACKAGE), 'Installed');

  const location = new URL(String(res.headers.location));
  const wait = await stack.request('GET', location.pathname + location.search, { headers: { 'x-api-key': '' } });
  t.equal(wait.status, 422, 'failOnError (default): a partial success fails the action');
  t.equal(wait.body.error.code, 'RolloutPartiallySucceeded');
  t.match(wait.body.error.message, /Fleet .* 005: .*A required component is missing/);

  const list = await stack.request('GET', '/v1/rollouts?pageSize=1');
  t.equal(list.body.value[0].rolloutId, r.rolloutId);
  t.equal(list.body.value[0].reason, 'quarterly update');
});

t.test('busy environments slow the rollout down, they do not fail it', async (t) => {
  const stack = await startFleet(20);
  t.teardown(() => stack.close());
  // Environments 2 and 17 are busy for the first 120 simulated seconds (2.4 s here): listed first,
  // their installs start at once and meet the 409.
  const res = await stack.request('POST', '/v1/rollouts?failOnError=false', {
    body: { packageUniqueName: FLEET_PACKAGE, environmentIds: [2, 17, 1].map(fleetEnvironmentId), reason: 'busy' },
  });
  const r = await rolloutEnded(stack, res.body.rolloutId);
  t.equal(r.status, 'Succeeded');
  t.ok(stack.sim.control.calls({ route: 'ppapi.install' }).some((c) => c.status === 409), 'upstream answered busy');
  for (const i of [2, 17]) {
    t.match(row(r, i), { status: 'Succeeded', toVersion: '2.0.0.0' });
    t.ok(row(r, i).deferrals >= 1, `environment ${i} was put off while busy`);
  }
  t.equal(row(r, 1).deferrals, 0);
  t.same([...acceptedPosts(stack).values()], [1, 1, 1], 'one accepted POST per environment');
});

t.test('failOnError=false answers 200 with the result; update mode; throttled POSTs', async (t) => {
  const stack = await startFleet(12);
  t.teardown(() => stack.close());
  stack.sim.control.addFault({ route: 'ppapi.install', kind: 'status', status: 429, retryAfter: '1', times: 4 });
  const res = await stack.request('POST', '/v1/rollouts?failOnError=false&waitSeconds=60', {
    body: { packageUniqueName: FLEET_PACKAGE, filter: { displayNamePattern: 'Fleet *' }, mode: 'update', reason: 'updates only' },
  });
  t.equal(res.status, 200, 'held until the end (waitSeconds)');
  t.equal(res.body.status, 'Succeeded');
  t.match(row(res.body, 3), { status: 'Skipped', skipReason: 'NotOffered' });
  t.match(row(res.body, 1), { status: 'Skipped', skipReason: 'NotInstalled' });
  t.match(row(res.body, 6), { status: 'Succeeded', fromVersion: '1.0.0.0' });
  t.match(row(res.body, 9), { status: 'Succeeded', fromVersion: '1.0.0.0' });
  t.ok(stack.sim.control.calls({ route: 'ppapi.install' }).filter((c) => c.status === 429).length >= 1, 'upstream throttled');
  const posts = acceptedPosts(stack);
  t.same([...posts.keys()].sort(), [6, 9, 12].map(fleetEnvironmentId).sort(), 'only installed, outdated environments');
  t.ok([...posts.values()].every((n) => n === 1), 'one accepted POST each');
});

t.test('stop rule: no new starts after N failures', async (t) => {
  const stack = await startFleet(12);
  t.teardown(() => stack.close());
  const res = await stack.request('POST', '/v1/rollouts', {
    body: { packageUniqueName: FLEET_PACKAGE, environmentIds: [5, 1, 4, 6].map(fleetEnvironmentId), maxConcurrent: 1, stopAfterFailures: 1, reason: 'careful' },
  });
  const r = await rolloutEnded(stack, res.body.rolloutId);
  t.equal(r.status, 'Failed');
  t.match(r.stoppedBecause, /1 environment\(s\) failed/);
  t.match(r.environments, [{ status: 'Failed' }, { status: 'NotStarted' }, { status: 'NotStarted' }, { status: 'NotStarted' }]);
  t.equal(acceptedPosts(stack).size, 1, 'nothing started after the failure');
});

t.test('cancel: running installs finish, nothing new starts', async (t) => {
  const stack = await startFleet(12, { speed: 5 });
  t.teardown(() => stack.close());
  const res = await stack.request('POST', '/v1/rollouts', {
    body: { packageUniqueName: FLEET_PACKAGE, environmentIds: [1, 4, 6, 8].map(fleetEnvironmentId), maxConcurrent: 1, reason: 'try' },
  });
  const id = res.body.rolloutId;
  await waitFor(async () => (await stack.request('GET', `/v1/rollouts/${id}`)).body.environments[0].operationId !== null, 'the first install to start');
  const canceled = await stack.request('POST', `/v1/rollouts/${id}/cancel`, { body: { reason: 'wrong package' } });
  t.equal(canceled.status, 200);
  t.equal(canceled.body.cancelRequested, true);
  const r = await rolloutEnded(stack, id);
  t.equal(r.status, 'Canceled');
  t.match(r.environments, [{ status: 'Succeeded' }, { status: 'NotStarted' }, { status: 'NotStarted' }, { status: 'NotStarted' }]);
  t.equal(acceptedPosts(stack).size, 1);
  const wait = await stack.request('GET', `/v1/rollouts/${id}/wait?failOnError=false`);
  t.equal(wait.status, 200);
  t.equal(wait.body.status, 'Canceled');
});
