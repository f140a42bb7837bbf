// Concurrency over HTTP against the simulator: many writers through the relay never lose a rule,
// and an outside writer (the simulator's 'outsideWriter' fault) is detected and its change kept;
// when it keeps undoing ours the caller gets a 409, never a silent success.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { type Stack, startStack } from '../helpers/stack.js';
import { FABRIKAM, NORTHWIND, OUTSIDER_NAME, OWN, type Row, type Raw } from './fixtures.js';

let stack: Stack;
t.before(async () => {
  stack = await startStack({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
});
t.teardown(() => stack.close());
t.beforeEach(() => stack.sim.control.reset());

const stored = () => stack.sim.control.getPolicy() as Raw;
const ruleMap = () =>
  new Map(
    stored().properties.allowedTenants.map((e) => [
      String(e.tenantId).toLowerCase(),
      `${!!e.direction?.inbound}/${!!e.direction?.outbound}`,
    ]),
  );
const outsiderRules = () =>
  stored()
    .properties.allowedTenants.filter((e) => e.tenantDisplayName === OUTSIDER_NAME)
    .map((e) => e.tenantId!);
const puts = () => stack.sim.control.calls({ route: 'bap.isolation.put' }).length;
const guid = () => randomUUID();

t.test(
  '100 concurrent upserts and removes with distinct tenants leave exactly the expected rules',
  async (t) => {
    const toRemove = Array.from({ length: 50 }, guid);
    const toAdd = Array.from({ length: 50 }, guid);
    const seeded = stored();
    stack.sim.control.setPolicy(OWN, {
      properties: {
        ...seeded.properties,
        allowedTenants: [
          ...seeded.properties.allowedTenants,
          ...toRemove.map((id) => ({ tenantId: id, direction: { inbound: true, outbound: true } })),
        ],
      },
    });
    const before = puts();
    const requests = [
      ...toAdd.map((id, i) =>
        stack.request('PUT', `/v1/tenant-isolation/rules/${id}`, {
          body: { direction: (['Inbound', 'Outbound', 'Both'] as const)[i % 3] },
        }),
      ),
      ...toRemove.map((id) => stack.request('DELETE', `/v1/tenant-isolation/rules/${id}`)),
    ];
    // Interleave adds and removes in flight.
    const results = await Promise.all(requests);
    for (const r of results) {
      if (r.status !== 200 || r.body.verified !== true)
        t.fail(`unexpected answer ${r.status} ${JSON.stringify(r.body)}`);
    }
    t.equal(
      results.filter((r) => r.status === 200 && r.body.verified && r.body.applied).length,
      100,
      'all 100 applied and verified',
    );
    const expected = new Map<string, string>([
      [FABRIKAM, 'true/false'],
      [NORTHWIND, 'false/false'],
      ['*', 'false/true'],
      ...toAdd.map((id, i): [string, string] => [id, ['true/false', 'false/true', 'true/true'][i % 3]!]),
    ]);
    t.same(
      Object.fromEntries(ruleMap()),
      Object.fromEntries(expected),
      'exactly the expected rule set: nothing lost, nothing resurrected',
    );
    t.equal(puts() - before, 100, 'one PUT per change');
    const listed = await stack.request('GET', '/v1/tenant-isolation/changes?pageSize=200');
    t.equal(
      listed.body.value.filter((r: Row) => r.outcome === 'applied').length,
      100,
      'one audit record per change',
    );
  },
);

t.test(
  'an outside writer adding a rule right after every PUT: detected, its rule kept, ours in place',
  async (t) => {
    stack.sim.control.addFault({ route: 'bap.isolation.put', kind: 'outsideWriter', mutate: 'addRule' });
    const ours = Array.from({ length: 8 }, guid);
    const results = await Promise.all([
      ...ours.map((id) =>
        stack.request('PUT', `/v1/tenant-isolation/rules/${id}`, { body: { direction: 'Both' } }),
      ),
      stack.request('DELETE', `/v1/tenant-isolation/rules/${FABRIKAM}`),
    ]);
    for (const r of results) {
      t.equal(r.status, 200);
      t.equal(r.body.applied, true);
      t.equal(r.body.verified, true);
      t.ok(r.body.concurrentChanges?.added?.length >= 1, 'the answer says what the other writer did');
    }
    const rules = ruleMap();
    for (const id of ours) t.equal(rules.get(id), 'true/true', `our rule ${id.slice(0, 8)} is there`);
    t.notOk(rules.has(FABRIKAM), 'the removed rule did not come back');
    t.equal(outsiderRules().length, puts(), 'every rule the other writer added survived (one per PUT)');
  },
);

t.test('an outside writer in the GET→PUT window: caught before our PUT, its rule kept', async (t) => {
  stack.sim.control.addFault({
    route: 'bap.isolation.get',
    kind: 'outsideWriter',
    mutate: 'addRule',
    times: 1,
  });
  const id = guid();
  const res = await stack.request('PUT', `/v1/tenant-isolation/rules/${id}`, {
    body: { direction: 'Inbound' },
  });
  t.equal(res.status, 200);
  t.match(res.body, { applied: true, verified: true, attempts: 1 });
  t.equal(res.body.concurrentChanges.added.length, 1, 'the stale copy was noticed');
  t.equal(outsiderRules().length, 1, "the other writer's rule was not overwritten");
  t.equal(ruleMap().get(id), 'true/false');
});

t.test(
  'an outside writer undoing our change after every PUT: bounded redos, then 409 saying so',
  async (t) => {
    stack.sim.control.addFault({
      route: 'bap.isolation.put',
      kind: 'outsideWriter',
      mutate: 'toggleEnabled',
    });
    const before = puts();
    const res = await stack.request('PUT', '/v1/tenant-isolation/enabled', {
      body: { enabled: false, reason: 'maintenance' },
    });
    t.equal(res.status, 409);
    t.equal(res.body.error.code, 'ConcurrentPolicyChange');
    t.match(
      res.body.error.message,
      /Another writer kept changing.*turned isolation on.*after 4 attempts the change is not in place/,
    );
    t.equal(res.body.error.details.attempts, 4);
    t.equal(puts() - before, 4, 'one try plus three redos, then stop');
    const [record] = (await stack.request('GET', '/v1/tenant-isolation/changes?pageSize=1')).body.value;
    t.match(record, { action: 'setEnabled', outcome: 'conflict', reason: 'maintenance', verified: false });
    t.match(record.error, /Another writer/);
  },
);

t.test('one outside interference: the redo on the fresh policy verifies', async (t) => {
  stack.sim.control.addFault({
    route: 'bap.isolation.put',
    kind: 'outsideWriter',
    mutate: 'toggleEnabled',
    times: 1,
  });
  const res = await stack.request('PUT', '/v1/tenant-isolation/enabled', { body: { enabled: false } });
  t.equal(res.status, 200);
  t.match(res.body, { applied: true, verified: true, attempts: 2 });
  t.equal(stored().properties.isDisabled, true);
});

t.test(
  'a rule change while another writer flips enforcement: our rule lands, their flip is kept',
  async (t) => {
    stack.sim.control.addFault({
      route: 'bap.isolation.put',
      kind: 'outsideWriter',
      mutate: 'toggleEnabled',
      times: 1,
    });
    const id = guid();
    const res = await stack.request('PUT', `/v1/tenant-isolation/rules/${id}`, {
      body: { direction: 'Outbound' },
    });
    t.equal(res.status, 200);
    t.match(res.body, { applied: true, verified: true, attempts: 1 });
    t.match(res.body.concurrentChanges, { enabledBefore: true, enabledAfter: false });
    t.equal(stored().properties.isDisabled, true, 'not switched back by us');
    t.equal(ruleMap().get(id), 'false/true');
  },
);

t.test('a replace raced by an outside writer is not redone (that would drop their rule): 409', async (t) => {
  stack.sim.control.addFault({
    route: 'bap.isolation.put',
    kind: 'outsideWriter',
    mutate: 'addRule',
    times: 1,
  });
  const before = puts();
  const res = await stack.request('PUT', '/v1/tenant-isolation', {
    body: { enabled: true, rules: [{ tenant: FABRIKAM, direction: 'Both' }], confirmRemovals: true },
  });
  t.equal(res.status, 409);
  t.match(res.body.error.message, /right after this change was written.*Nothing was redone/);
  t.equal(puts() - before, 1);
  t.equal(outsiderRules().length, 1, "the other writer's rule survives");
  t.equal(ruleMap().get(FABRIKAM), 'true/true');
});

t.test(
  '100 concurrent writes with an outside writer on 30% of PUTs: no rule lost or resurrected',
  async (t) => {
    stack.sim.control.addFault({
      route: 'bap.isolation.put',
      kind: 'outsideWriter',
      mutate: 'addRule',
      probability: 0.3,
    });
    const toRemove = Array.from({ length: 40 }, guid);
    const toAdd = Array.from({ length: 60 }, guid);
    const seeded = stored();
    stack.sim.control.setPolicy(OWN, {
      properties: {
        ...seeded.properties,
        allowedTenants: [
          ...seeded.properties.allowedTenants,
          ...toRemove.map((id) => ({ tenantId: id, direction: { inbound: true } })),
        ],
      },
    });
    const results = await Promise.all([
      ...toAdd.map((id) =>
        stack.request('PUT', `/v1/tenant-isolation/rules/${id}`, { body: { direction: 'Both' } }),
      ),
      ...toRemove.map((id) => stack.request('DELETE', `/v1/tenant-isolation/rules/${id}`)),
    ]);
    t.same([...new Set(results.map((r) => r.status))], [200]);
    const rules = ruleMap();
    t.same(
      toAdd.filter((id) => rules.get(id) !== 'true/true'),
      [],
      'every added rule is there',
    );
    t.same(
      toRemove.filter((id) => rules.has(id)),
      [],
      'no removed rule came back',
    );
    // Every outside rule any answer ever showed must still be there at the end.
    const seenOutside = new Set<string>();
    for (const r of results) {
      for (const rule of [...r.body.policy.rules, ...(r.body.concurrentChanges?.added ?? [])]) {
        if (rule.tenantDisplayName === OUTSIDER_NAME) seenOutside.add(rule.tenantId);
      }
    }
    t.ok(seenOutside.size > 0, 'the outside writer did act');
    const finalOutside = new Set(outsiderRules());
    t.same(
      [...seenOutside].filter((id) => !finalOutside.has(id)),
      [],
      'every rule the other writer added survived',
    );
    t.equal(rules.get(FABRIKAM), 'true/false');
    t.equal(rules.get('*'), 'false/true');
  },
);

t.test('compare-and-swap writes are not redone either: 409, the other writer wins', async (t) => {
  stack.sim.control.addFault({
    route: 'bap.isolation.put',
    kind: 'outsideWriter',
    mutate: 'toggleEnabled',
    times: 1,
  });
  const read = await stack.request('GET', '/v1/tenant-isolation');
  const before = puts();
  const res = await stack.request('PUT', '/v1/tenant-isolation/enabled', {
    body: { enabled: false, ifRevision: read.body.revision },
  });
  t.equal(res.status, 409);
  t.match(res.body.error.message, /right after this change was written.*Nothing was redone/);
  t.equal(puts() - before, 1);
  t.equal(stored().properties.isDisabled, false, "the other writer's flip stands");
});

t.test('a replace whose policy moved before the PUT writes nothing: 409', async (t) => {
  stack.sim.control.addFault({
    route: 'bap.isolation.get',
    kind: 'outsideWriter',
    mutate: 'addRule',
    times: 1,
  });
  const before = puts();
  const res = await stack.request('PUT', '/v1/tenant-isolation', {
    body: { enabled: true, rules: [{ tenant: FABRIKAM, direction: 'Inbound' }], confirmRemovals: true },
  });
  t.equal(res.status, 409);
  t.match(res.body.error.message, /while this change was being prepared.*nothing was written/);
  t.equal(res.body.error.details.written, false);
  t.equal(puts() - before, 0, 'no PUT');
  t.equal(outsiderRules().length, 1, "the other writer's rule is there");
  t.equal(ruleMap().get('*'), 'false/true', 'nothing of the replace was applied');
});
