// The ratio stop rule: once as many installs finished as run at once, a failure share at or above
// the ratio stops new starts; running installs still finish.
import t from 'tap';
import { acceptedPosts, FLEET_PACKAGE, fleetEnvironmentId, rolloutEnded, startFleet } from './fleet.js';

t.test('stop at a failure ratio', async (t) => {
  const stack = await startFleet(60);
  t.teardown(() => stack.close());
  // One at a time: 1 succeeds (0 of 1 failed), then 5 fails (1 of 2: 50%), so 55 and 4 never start.
  const res = await stack.request('POST', '/v1/rollouts?failOnError=false&waitSeconds=60', {
    body: { packageUniqueName: FLEET_PACKAGE, environmentIds: [1, 5, 55, 4].map(fleetEnvironmentId), maxConcurrent: 1, stopAtFailureRatio: 0.5, reason: 'ratio' },
  });
  const r = res.body.status === 'Running' ? await rolloutEnded(stack, res.body.rolloutId) : res.body;
  t.equal(r.status, 'PartiallySucceeded');
  t.match(r.stoppedBecause, /1 of 2 finished installs failed \(50%\)/);
  t.match(r.environments, [{ status: 'Succeeded' }, { status: 'Failed' }, { status: 'NotStarted' }, { status: 'NotStarted' }]);
  t.equal(acceptedPosts(stack).size, 2);
});
