// The Dataverse pre-check is asked once per environment for a short while, concurrent lookups
// share one upstream call, and only the positive answer is remembered.
import t from 'tap';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/seed.js';
import { startStack } from '../helpers/stack.js';

t.test('environment pre-check cache', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const lookups = () => stack.sim.control.calls({ route: 'bap.environment' }).length;

  t.test('repeated and concurrent package reads check the environment once', async (t) => {
    const before = lookups();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => stack.request('GET', `/v1/environments/${DEMO_ENVIRONMENTS.sales}/packages`)),
    );
    t.ok(answers.every((a) => a.status === 200));
    await stack.request('GET', `/v1/environments/${DEMO_ENVIRONMENTS.sales}/packages/MicrosoftFormsPro`);
    t.equal(lookups() - before, 1, 'one upstream environment lookup for 21 relayed calls');
    t.equal(stack.sim.control.calls({ route: 'ppapi.listPackages' }).length >= 20, true, 'the package lists themselves are not cached');
  });

  t.test('an environment without Dataverse is asked again every time', async (t) => {
    const before = lookups();
    for (let i = 0; i < 3; i++) {
      const res = await stack.request('GET', `/v1/environments/${DEMO_ENVIRONMENTS.teams}/packages`);
      t.equal(res.status, 409);
    }
    t.equal(lookups() - before, 3, 'a missing Dataverse is never remembered, so adding it is seen at once');
  });
});
