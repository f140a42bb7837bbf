// CheckIsolationPolicy and EnsureIsolationPolicy over HTTP against the simulator. Seeded policy:
// Fabrikam Inbound, Northwind with no direction (None), * Outbound; isolation on.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { type Stack, startStack } from '../helpers/stack.js';
import { FABRIKAM, NORTHWIND, OUTSIDER_NAME, OWN, type Raw } from './fixtures.js';

const WOODGROVE = 'b1c2d3e4-f5a6-4b7c-9d8e-0f1a2b3c4d5e';

let stack: Stack;
t.before(async () => {
  stack = await startStack({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
});
t.teardown(() => stack.close());
t.beforeEach(() => stack.sim.control.reset());

const stored = () => stack.sim.control.getPolicy() as Raw;
const rules = () =>
  Object.fromEntries(
    stored().properties.allowedTenants.map((e) => [String(e.tenantId).toLowerCase(), `${!!e.direction?.inbound}/${!!e.direction?.outbound}`]),
  );
const puts = () => stack.sim.control.calls({ route: 'bap.isolation.put' }).length;
const check = (body: unknown) => stack.request('POST', '/v1/tenant-isolation/check', { body });
const ensure = (body: unknown) => stack.request('POST', '/v1/tenant-isolation/ensure', { body });

t.test('check reports drift item by item and writes nothing', async (t) => {
  const before = puts();
  const res = await check({
    include: [
      { tenant: FABRIKAM, direction: 'Both' },
      { tenant: 'woodgrove.onmicrosoft.com', direction: 'Inbound' },
      { tenant: '*', direction: 'Outbound' },
    ],
    exclude: [NORTHWIND],
    enabled: false,
  });
  t.equal(res.status, 200, JSON.stringify(res.body));
  t.equal(res.body.compliant, false);
  t.same(
    res.body.drift,
    [
      { kind: 'wrongDirection', tenantId: FABRIKAM, expected: 'Both', actual: 'Inbound' },
      { kind: 'missing', tenantId: WOODGROVE, expected: 'Inbound', actual: 'absent' },
      { kind: 'extra', tenantId: NORTHWIND, expected: 'absent', actual: 'None' },
      { kind: 'enabledMismatch', tenantId: null, expected: 'disabled', actual: 'enabled' },
    ],
    'domains resolved; each difference named',
  );
  t.equal(puts(), before, 'no write');
});

t.test('check of a matching desired state is compliant', async (t) => {
  const res = await check({ include: [{ tenant: FABRIKAM, direction: 'Inbound' }], exclude: [WOODGROVE], enabled: true });
  t.equal(res.status, 200);
  t.same(res.body, { compliant: true, drift: [], revision: res.body.revision, enabled: true });
});

t.test('check of an exact set: extras and missing', async (t) => {
  const res = await check({ exact: [{ tenant: FABRIKAM, direction: 'Inbound' }, { tenant: WOODGROVE, direction: 'Outbound' }] });
  t.same(
    res.body.drift.map((d: { kind: string; tenantId: string }) => `${d.kind}:${d.tenantId}`).sort(),
    [`extra:*`, `extra:${NORTHWIND}`, `missing:${WOODGROVE}`],
  );
});

t.test('bad desired states are 400s that say why', async (t) => {
  const empty = await check({});
  t.equal(empty.status, 400);
  t.equal(empty.body.error.code, 'EmptyDesiredState');
  const both = await check({ exact: [], include: [{ tenant: FABRIKAM, direction: 'Both' }] });
  t.equal(both.body.error.code, 'AmbiguousDesiredState');
  const twice = await ensure({ include: [{ tenant: FABRIKAM, direction: 'Both' }], exclude: ['fabrikam.onmicrosoft.com'] });
  t.equal(twice.status, 400);
  t.equal(twice.body.error.code, 'ConflictingDesiredRule');
  const unknown = await check({ exclude: ['nobody.example'] });
  t.equal(unknown.status, 400);
  t.equal(unknown.body.error.code, 'UnknownTenantDomain');
  const own = await ensure({ include: [{ tenant: OWN, direction: 'Both' }] });
  t.equal(own.status, 400);
  t.equal(own.body.error.code, 'OwnTenantRule');
});

t.test('ensure with several excludes removes every one of them in one PUT', async (t) => {
  const extra = [randomUUID(), randomUUID(), randomUUID()];
  const seeded = stored();
  stack.sim.control.setPolicy(OWN, {
    properties: { ...seeded.properties, allowedTenants: [...seeded.properties.allowedTenants, ...extra.map((id) => ({ tenantId: id, direction: { inbound: true, outbound: true } }))] },
  });
  const before = puts();
  const res = await ensure({ exclude: [...extra, NORTHWIND], reason: 'offboard partners' });
  t.equal(res.status, 200, JSON.stringify(res.body));
  t.match(res.body, { applied: true, verified: true });
  t.equal(puts() - before, 1, 'one write');
  t.same(rules(), { [FABRIKAM]: 'true/false', '*': 'false/true' }, 'all four excluded tenants gone, the rest kept');
  const after = await check({ exclude: [...extra, NORTHWIND] });
  t.equal(after.body.compliant, true, 'ensure applied exactly what check reported');
});

t.test('ensure include + enabled flag, via domains; a dry run first writes nothing', async (t) => {
  const desired = { include: [{ tenant: 'woodgrove.onmicrosoft.com', direction: 'Both' }, { tenant: 'fabrikam.com', direction: 'Both' }], enabled: false };
  const before = puts();
  const dry = await ensure({ ...desired, dryRun: true });
  t.equal(dry.status, 200);
  t.match(dry.body, { dryRun: true, applied: false, changed: true });
  t.same(dry.body.diff.added.map((r: { tenantId: string }) => r.tenantId), [WOODGROVE]);
  t.same(dry.body.diff.changed.map((r: { tenantId: string }) => r.tenantId), [FABRIKAM]);
  t.equal(puts(), before, 'the dry run wrote nothing');
  const applied = await ensure({ ...desired, reason: 'approved state' });
  t.match(applied.body, { applied: true, verified: true });
  t.equal(stored().properties.isDisabled, true);
  t.same(rules(), { [FABRIKAM]: 'true/true', [NORTHWIND]: 'false/false', '*': 'false/true', [WOODGROVE]: 'true/true' });
});

t.test('an already compliant policy: no-op, no PUT, recorded as noChange', async (t) => {
  const before = puts();
  const res = await ensure({ include: [{ tenant: FABRIKAM, direction: 'Inbound' }], enabled: true, reason: 'nightly' });
  t.equal(res.status, 200);
  t.match(res.body, { applied: false, changed: false, verified: true });
  t.equal(puts(), before, 'no PUT');
  const trail = await stack.request('GET', '/v1/tenant-isolation/changes?pageSize=1');
  t.match(trail.body.value[0], { action: 'ensurePolicy', outcome: 'noChange', reason: 'nightly' });
});

t.test('an exact set that removes rules needs confirmRemovals', async (t) => {
  const exact = [{ tenant: FABRIKAM, direction: 'Inbound' }, { tenant: '*', direction: 'Outbound' }];
  const before = puts();
  const refused = await ensure({ exact });
  t.equal(refused.status, 409);
  t.equal(refused.body.error.code, 'RemovalsNotConfirmed');
  t.match(refused.body.error.message, NORTHWIND);
  t.equal(puts(), before, 'nothing written');
  const applied = await ensure({ exact, confirmRemovals: true, reason: 'exact approved set' });
  t.match(applied.body, { applied: true, verified: true });
  t.same(rules(), { [FABRIKAM]: 'true/false', '*': 'false/true' });
});

t.test('an outside writer during Ensure (include/exclude): its change is kept, ours lands', async (t) => {
  stack.sim.control.addFault({ route: 'bap.isolation.put', kind: 'outsideWriter', mutate: 'addRule', times: 1 });
  const res = await ensure({ include: [{ tenant: WOODGROVE, direction: 'Outbound' }], exclude: [NORTHWIND] });
  t.equal(res.status, 200, JSON.stringify(res.body));
  t.match(res.body, { applied: true, verified: true });
  t.ok(res.body.concurrentChanges?.added?.length >= 1, 'the answer says what the other writer did');
  const now = stored().properties.allowedTenants;
  t.ok(now.some((e) => e.tenantDisplayName === OUTSIDER_NAME), "the other writer's rule survived");
  t.equal(rules()[WOODGROVE], 'false/true');
  t.notOk(NORTHWIND in rules());
});

t.test('an outside writer during an exact Ensure: refused with 409, not overwritten', async (t) => {
  stack.sim.control.addFault({ route: 'bap.isolation.put', kind: 'outsideWriter', mutate: 'addRule', times: 1 });
  const res = await ensure({ exact: [{ tenant: FABRIKAM, direction: 'Inbound' }, { tenant: '*', direction: 'Outbound' }], confirmRemovals: true });
  t.equal(res.status, 409, JSON.stringify(res.body));
  t.equal(res.body.error.code, 'ConcurrentPolicyChange');
  t.ok(stored().properties.allowedTenants.some((e) => e.tenantDisplayName === OUTSIDER_NAME), "the other writer's rule was not removed");
});
