// A single InstallPackage and a rollout for the same environment and package share one install:
// one upstream POST, whichever came first.
import t from 'tap';
import { waitFor } from '../helpers/wait-for.js';
import { acceptedPosts, FLEET_PACKAGE, fleetEnvironmentId, rolloutEnded, row, startFleet } from './fleet.js';

t.test('InstallPackage first, then a rollout over that environment: the rollout joins it', async (t) => {
  const stack = await startFleet(4, { speed: 5 });
  t.teardown(() => stack.close());
  const env = fleetEnvironmentId(1);
  const single = await stack.request('POST', `/v1/environments/${env}/packages/${FLEET_PACKAGE}/install`);
  t.equal(single.status, 202);
  const res = await stack.request('POST', '/v1/rollouts', { body: { packageUniqueName: FLEET_PACKAGE, environmentIds: [env], reason: 'join' } });
  const r = await rolloutEnded(stack, res.body.rolloutId);
  t.match(row(r, 1), { status: 'Succeeded', operationId: single.body.operationId });
  t.equal(acceptedPosts(stack).get(env), 1, 'one POST');
  t.equal(stack.sim.control.calls({ method: 'POST', route: 'ppapi.install' }).length, 1, 'no second POST, not even a refused one');
});

t.test('a rollout first, then InstallPackage for one of its environments: joined', async (t) => {
  const stack = await startFleet(4, { speed: 5 });
  t.teardown(() => stack.close());
  const env = fleetEnvironmentId(1);
  const res = await stack.request('POST', '/v1/rollouts', { body: { packageUniqueName: FLEET_PACKAGE, environmentIds: [env], reason: 'join' } });
  let operationId: string | null = null;
  await waitFor(async () => {
    operationId = (await stack.request('GET', `/v1/rollouts/${res.body.rolloutId}`)).body.environments[0].operationId;
    return operationId !== null;
  }, 'the rollout to start its install');
  const single = await stack.request('POST', `/v1/environments/${env}/packages/${FLEET_PACKAGE}/install`);
  t.equal(single.status, 202);
  t.equal(single.body.operationId, operationId, 'the same operation');
  const r = await rolloutEnded(stack, res.body.rolloutId);
  t.equal(r.status, 'Succeeded');
  t.equal(stack.sim.control.calls({ method: 'POST', route: 'ppapi.install' }).length, 1, 'one POST');
});
