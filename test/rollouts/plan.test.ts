// The dry run: which environments get what and why the others are skipped, for each filter and
// mode, with no install started upstream.
import t from 'tap';
import { FLEET_PACKAGE, fleetEnvironmentId, row, startFleet } from './fleet.js';

const stack = await startFleet(40);
t.teardown(() => stack.close());

const plan = async (body: Record<string, unknown>) => {
  const res = await stack.request('POST', '/v1/rollouts', { body: { reason: 'plan test', dryRun: true, ...body } });
  t.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
  return res.body;
};

t.test('one package everywhere, install or update: each skip says why', async (t) => {
  const p = await plan({ packageUniqueName: FLEET_PACKAGE, filter: { displayNamePattern: 'Fleet *' } });
  t.equal(p.dryRun, true);
  t.equal(p.rolloutId, null);
  t.equal(p.counts.total, 40);
  t.match(row(p, 10), { status: 'Skipped', skipReason: 'NoDataverse' });
  t.match(row(p, 3), { status: 'Skipped', skipReason: 'NotOffered' });
  t.match(row(p, 7), { status: 'Skipped', skipReason: 'AlreadyCurrent', fromVersion: '2.0.0.0' });
  t.match(row(p, 3 * 3), { status: 'Planned', fromVersion: '1.0.0.0', toVersion: '2.0.0.0' });
  t.match(row(p, 1), { status: 'Planned', fromVersion: null, toVersion: '2.0.0.0', environmentName: 'Fleet Production 001' });
  t.equal(stack.sim.control.calls({ method: 'POST', route: 'ppapi.install' }).length, 0, 'a dry run starts nothing');
});

t.test('modes: update only where installed; install only where missing', async (t) => {
  const update = await plan({ packageUniqueName: FLEET_PACKAGE, filter: { dataverseOnly: true }, mode: 'update' });
  t.match(row(update, 1), { status: 'Skipped', skipReason: 'NotInstalled' });
  t.match(row(update, 9), { status: 'Planned' });
  const install = await plan({ packageUniqueName: FLEET_PACKAGE, filter: { dataverseOnly: true }, mode: 'install' });
  t.match(row(install, 1), { status: 'Planned' });
  t.match(row(install, 9), { status: 'Skipped', skipReason: 'AlreadyInstalled' });
  t.notOk(row(install, 10), 'dataverseOnly leaves environments without Dataverse out of the plan');
});

t.test('filters: type, region, display-name pattern, ids', async (t) => {
  const prod = await plan({ packageUniqueName: FLEET_PACKAGE, filter: { types: ['production'], displayNamePattern: 'fleet*' } });
  t.ok(prod.environments.length > 0);
  t.ok(prod.environments.every((e: { environmentName: string }) => e.environmentName.startsWith('Fleet Production')), 'only production');
  t.equal(prod.environments.length, 10);
  const europe = await plan({ packageUniqueName: FLEET_PACKAGE, filter: { regions: ['Europe'], displayNamePattern: 'Fleet*' } });
  const europeIds = Array.from({ length: 40 }, (_, k) => k + 1).filter((i) => (i - 1) % 3 === 1).map(fleetEnvironmentId);
  t.same(europe.environments.map((e: { environmentId: string }) => e.environmentId).sort(), europeIds.sort(), 'every second of each three: the europe ones');
  const pattern = await plan({ packageUniqueName: FLEET_PACKAGE, filter: { displayNamePattern: 'fleet sandbox 00*' } });
  t.same(pattern.environments.map((e: { environmentName: string }) => e.environmentName).sort(), ['Fleet Sandbox 002', 'Fleet Sandbox 006']);
  const ids = await plan({ packageUniqueName: FLEET_PACKAGE, environmentIds: [fleetEnvironmentId(1), '00000000-0000-4000-8000-00000000dead'] });
  t.match(ids.environments, [{ environmentId: fleetEnvironmentId(1), status: 'Planned' }, { status: 'Skipped', skipReason: 'EnvironmentNotFound' }]);
});

t.test('every package with an update available', async (t) => {
  const p = await plan({ allPendingUpdates: true, filter: { displayNamePattern: 'Fleet *' } });
  t.match(row(p, 9), { status: 'Planned', packageUniqueName: FLEET_PACKAGE, fromVersion: '1.0.0.0' });
  t.match(row(p, 1), { status: 'Skipped', skipReason: 'NoUpdateAvailable' });
});

t.test('bad input is a named 400', async (t) => {
  const both = await stack.request('POST', '/v1/rollouts', { body: { reason: 'x', packageUniqueName: FLEET_PACKAGE, allPendingUpdates: true, filter: {} } });
  t.equal(both.status, 400);
  t.equal(both.body.error.code, 'PackageChoiceRequired');
  const none = await stack.request('POST', '/v1/rollouts', { body: { reason: 'x', packageUniqueName: FLEET_PACKAGE } });
  t.equal(none.body.error.code, 'TargetsRequired');
  const nothing = await stack.request('POST', '/v1/rollouts', { body: { reason: 'x', packageUniqueName: FLEET_PACKAGE, filter: { displayNamePattern: 'nope*' } } });
  t.equal(nothing.status, 400);
  t.equal(nothing.body.error.code, 'NoEnvironmentsMatched');
  const unknown = await stack.request('GET', '/v1/rollouts/6f1c1f5e-0000-4000-8000-000000000000');
  t.equal(unknown.status, 404);
  t.equal(unknown.body.error.code, 'RolloutNotFound');
});
