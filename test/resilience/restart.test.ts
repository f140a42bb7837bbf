// The relay restarts while installs are being waited on: the held long poll is answered (202 +
// Location) instead of being dropped, and the same signed wait URL works on the new instance (on
// the same address, with the same WAIT_URL_SECRET), which follows the install to its end without
// a second install POST. A rule write completed before the restart is still there after it.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/index.js';
import { createUpstreamClients } from '../../src/upstream/index.js';
import { startStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait-for.js';
import { boundedRequest, boundedUrl, checkAnswer, countCalls, storedRules } from './invariants.js';

const ENV = DEMO_ENVIRONMENTS.sales;

t.test('a restart during waits', async (t) => {
  const stack = await startStack({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  t.teardown(() => stack.close());
  stack.sim.control.setSpeed(1e-9); // frozen: the install runs until the clock is advanced

  const tenant = randomUUID();
  const write = await boundedRequest(stack, 'PUT', `/v1/tenant-isolation/rules/${tenant}`, { body: { direction: 'Both' } });
  t.equal(write.status, 200);

  const started = await boundedRequest(stack, 'POST', `/v1/environments/${ENV}/packages/msdyn_ContosoSurveysAnchor/install`);
  checkAnswer(t, started, 'InstallPackage');
  t.equal(started.status, 202);
  const location: string = started.headers.location!;
  t.ok(location.startsWith(stack.baseUrl), 'the wait URL points at this relay');

  // Two engines hold the wait URL when the relay goes down.
  const held = [1, 2].map(() => boundedUrl(`${location}&waitSeconds=60`, 'GET', {}, undefined, 30_000));
  const heldWaits = async () => /^relay_active_waits (\d+)$/m.exec(String((await stack.request('GET', '/metrics')).body))?.[1];
  await waitFor(async () => (await heldWaits()) === '2', 'both engines to hold the wait URL');
  await stack.app.close();
  for (const res of await Promise.all(held)) {
    checkAnswer(t, res, 'held wait during shutdown');
    t.equal(res.status, 202, 'released with 202 (poll again), not dropped');
    t.ok(res.headers.location, 'with a Location to poll');
  }

  // The new instance: same config (same secret, same address), fresh upstream clients, no memory of the install.
  const upstream = createUpstreamClients(stack.config);
  const app = await buildApp({ config: stack.config, upstream });
  t.teardown(async () => {
    await app.close();
    await upstream.close();
  });
  await app.listen({ host: '127.0.0.1', port: stack.config.port });

  const stillRunning = await boundedUrl(location, 'GET', {});
  checkAnswer(t, stillRunning, 'wait URL on the new instance');
  t.equal(stillRunning.status, 202, 'the new instance knows the install from the URL alone');

  stack.sim.control.advanceClock(60_000);
  const done = await boundedUrl(`${location}&waitSeconds=30`, 'GET', {}, undefined, 45_000);
  checkAnswer(t, done, 'wait URL after completion');
  t.equal(done.status, 200);
  t.match(done.body, { status: 'Succeeded', packageUniqueName: 'msdyn_ContosoSurveysAnchor', operationId: started.body.operationId });
  t.equal(countCalls(stack, 'ppapi.install'), 1, 'no second install POST across the restart');
  t.equal(storedRules(stack).get(tenant), 'true/true', 'the rule written before the restart is still there');
});
