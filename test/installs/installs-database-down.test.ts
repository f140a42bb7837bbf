// STATE_STORE=postgres with the database going away and coming back: a new install answers 503
// with Retry-After and nothing reaches upstream, package reads (upstream only) keep working, and
// once the database is back on the same port and data the same relay installs again, no restart.
import t from 'tap';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/seed.js';
import { migratedDatabase, startPostgres } from '../helpers/postgres.js';
import { startStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait-for.js';

const ENV = DEMO_ENVIRONMENTS.sales;
const PACKAGE = 'msdyn_ContosoSurveysAnchor';

t.test('installs while the database is down, then after it is back', async (t) => {
  const server = await startPostgres();
  t.teardown(() => server.stop());
  const relay = await startStack({ env: { STATE_STORE: 'postgres', DATABASE_URL: await migratedDatabase(server) }, speed: 1000 });
  t.teardown(() => relay.close());
  const installPath = `/v1/environments/${ENV}/packages/${PACKAGE}/install`;

  await server.pause();
  const refused = await relay.request('POST', installPath);
  t.equal(refused.status, 503, 'a new install without its database is refused');
  t.equal(refused.body.error.code, 'StateStoreUnavailable');
  t.match(refused.body.error.message, /nothing was changed/);
  t.match(refused.headers['retry-after'], /^\d+$/, 'with Retry-After');
  t.equal(relay.sim.control.calls({ route: 'ppapi.install' }).length, 0, 'nothing reached upstream');
  const packages = await relay.request('GET', `/v1/environments/${ENV}/packages`);
  t.equal(packages.status, 200, 'reads that need only upstream keep working');

  await server.resume();
  let started = await relay.request('POST', installPath);
  // The pool notices the restarted server on its next connection; give it a few tries, not a restart.
  await waitFor(async () => {
    if (started.status === 503) started = await relay.request('POST', installPath);
    return started.status !== 503;
  }, 'the relay installs again once the database is back', { everyMs: 200 });
  t.ok([200, 202].includes(started.status), `installed or running (${started.status})`);
  t.equal(relay.sim.control.calls({ route: 'ppapi.install' }).length, 1, 'one upstream POST');
  await waitFor(async () => (await relay.request('GET', '/readyz')).status === 200, 'ready again');
});
