// GetInstallStatus is a read, not a wait: for an install the relay did not start or join (admin
// center, pac, or a relay restart) it reports upstream's status however old the install is — the
// install deadline is the relay's patience for its own waits — and once an install the relay knew
// has ended, the answer still names its package and version.
import t from 'tap';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/seed.js';
import { JumpClock } from '../helpers/fast-clock.js';
import { startStack } from '../helpers/stack.js';
import { followLikeEngine, getAbsolute } from './packages-engine.js';

const ENV = DEMO_ENVIRONMENTS.sales;

t.test("an install started outside the relay, older than the deadline, reads as upstream's status", async (t) => {
  const clock = new JumpClock();
  const stack = await startStack({ speed: 1e-9, clock, env: { INSTALL_DEADLINE_MINUTES: '1' } });
  t.teardown(() => stack.close());
  // Started the way the admin center or pac would: straight upstream, not through the relay.
  const outside = await stack.upstream.appManagement.installPackage(ENV, 'msdyn_ContosoSurveysAnchor', { correlationId: 'admin-center' });
  clock.skewMs += 5 * 60_000; // upstream's createdDateTime is now 5 minutes old as the relay sees it

  const read = await stack.request('GET', `/v1/environments/${ENV}/operations/${outside.operationId}`);
  t.equal(read.status, 200, JSON.stringify(read.body));
  t.equal(read.body.status, 'NotStarted', 'what upstream says, not a final status of the relay');
  t.equal(read.body.waitTimedOut, false);
  t.equal(read.body.completedAt, null);

  stack.sim.control.advanceClock(2_000); // upstream moves on: Running
  clock.skewMs += 15_000; // past the relay's poll interval, so it asks upstream again
  const later = await stack.request('GET', `/v1/environments/${ENV}/operations/${outside.operationId}?package=msdyn_ContosoSurveysAnchor`);
  t.equal(later.body.status, 'Running');

  stack.sim.control.advanceClock(60_000);
  clock.skewMs += 15_000;
  const ended = await stack.request('GET', `/v1/environments/${ENV}/operations/${outside.operationId}`);
  t.equal(ended.body.status, 'Succeeded');
});

t.test('after an install the relay started ends, the status still names its package and version', async (t) => {
  const stack = await startStack({ speed: 50 });
  t.teardown(() => stack.close());
  const first = await stack.request('POST', `/v1/environments/${ENV}/packages/msdyn_FieldInspectionsAnchor/install`);
  t.equal(first.status, 202);
  const run = await followLikeEngine(first);
  t.equal(run.final.body.status, 'Succeeded');

  const read = await stack.request('GET', `/v1/environments/${ENV}/operations/${first.body.operationId}`);
  t.equal(read.status, 200);
  t.match(read.body, { status: 'Succeeded', packageUniqueName: 'msdyn_FieldInspectionsAnchor', packageVersion: '1.4.2.3' });
  t.ok(read.body.startedAt, 'and when it started');

  const withName = await stack.request('GET', `/v1/environments/${ENV}/operations/${first.body.operationId}?package=msdyn_FieldInspectionsAnchor`);
  t.equal(withName.body.packageVersion, '1.4.2.3', 'also when the package is named');
  const waited = await getAbsolute(first.headers.location!);
  t.match(waited.body, { status: 'Succeeded', packageVersion: '1.4.2.3' }, 'and on the wait URL');
});
