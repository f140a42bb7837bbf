// The tenant isolation actions, run the way the flow engine runs them through the served
// definition: add a rule, remove it, a dry run that changes nothing, and replacing the whole
// policy with and without confirmRemovals.
import t from 'tap';
import { type Stack, startStack } from '../helpers/stack.js';
import { FlowEngine } from './flow-engine.js';

const FABRIKAM = '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3';
const NORTHWIND = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';
const WOODGROVE = 'b1c2d3e4-f5a6-4b7c-9d8e-0f1a2b3c4d5e';

const stack: Stack = await startStack();
t.teardown(() => stack.close());
const definition = (
  await stack.request('GET', '/apiDefinition.swagger.json', { headers: { 'x-api-key': '' } })
).body;
const engine = new FlowEngine({
  definition,
  origin: `${definition.schemes[0]}://${definition.host}`,
  connection: { apiKey: stack.apiKey },
  maxSleepMs: 50,
});

type Rule = { tenantId: string; direction: string };
const rulesNow = async (): Promise<Rule[]> => {
  const policy = await engine.run('GetIsolationPolicy');
  if (policy.status !== 'Succeeded') throw new Error(JSON.stringify(policy.body));
  return policy.body.rules;
};
const ruleFor = (rules: Rule[], id: string) => rules.find((r) => r.tenantId === id);

t.test('a dry run shows the change and writes nothing', async (t) => {
  const before = await engine.run('GetIsolationPolicy');
  const dry = await engine.run('UpsertIsolationRule', {
    tenant: 'woodgrove.onmicrosoft.com',
    'body/direction': 'Both',
    'body/dryRun': true,
    'body/reason': 'e2e dry run',
  });
  t.equal(dry.status, 'Succeeded', JSON.stringify(dry.body));
  t.match(dry.body, { dryRun: true, applied: false, changed: true });
  t.equal(dry.body.diff.added.length, 1);
  t.equal(dry.body.diff.added[0].tenantId, WOODGROVE, 'the domain was resolved to the tenant id');
  const after = await engine.run('GetIsolationPolicy');
  t.equal(after.body.revision, before.body.revision, 'the policy did not move');
  t.notOk(ruleFor(after.body.rules, WOODGROVE));
});

t.test('add a rule, then remove it; the other rules stay', async (t) => {
  const others = (await rulesNow()).filter((r) => r.tenantId !== WOODGROVE);
  const added = await engine.run('UpsertIsolationRule', {
    tenant: WOODGROVE,
    'body/direction': 'Inbound',
    'body/reason': 'e2e add',
  });
  t.equal(added.status, 'Succeeded', JSON.stringify(added.body));
  t.match(added.body, { applied: true, changed: true, verified: true });
  const withRule = await rulesNow();
  t.match(ruleFor(withRule, WOODGROVE), { direction: 'Inbound' });
  t.same(
    withRule.filter((r) => r.tenantId !== WOODGROVE),
    others,
    'nothing else moved',
  );

  const removed = await engine.run('RemoveIsolationRule', { tenant: WOODGROVE, reason: 'e2e remove' });
  t.equal(removed.status, 'Succeeded', JSON.stringify(removed.body));
  t.match(removed.body, { applied: true, changed: true });
  const withoutRule = await rulesNow();
  t.notOk(ruleFor(withoutRule, WOODGROVE));
  t.same(withoutRule, others);
});

t.test('a bad tenant fails the action with a 400 that says why', async (t) => {
  const bad = await engine.run('UpsertIsolationRule', { tenant: 'not a tenant!', 'body/direction': 'Both' });
  t.equal(bad.status, 'Failed');
  t.equal(bad.statusCode, 400);
  t.ok(bad.body.error.message.length > 20);
});

t.test('replace the policy: refused without confirmRemovals, applied with it', async (t) => {
  const before = await rulesNow();
  t.ok(ruleFor(before, NORTHWIND), 'the seeded rule to be dropped is there');
  const keep = [
    { tenant: FABRIKAM, direction: 'Inbound' },
    { tenant: '*', direction: 'Outbound' },
  ];
  const refused = await engine.run('ReplaceIsolationPolicy', {
    body: { enabled: true, rules: keep, reason: 'e2e replace' },
  });
  t.equal(refused.status, 'Failed', 'the action fails');
  t.equal(refused.statusCode, 409);
  t.match(refused.body.error.message, /confirmRemovals/);
  t.match(refused.body.error.message, new RegExp(NORTHWIND));
  t.same(await rulesNow(), before, 'nothing changed');

  const dry = await engine.run('ReplaceIsolationPolicy', {
    body: { enabled: true, rules: keep, confirmRemovals: true, dryRun: true },
  });
  t.equal(dry.status, 'Succeeded', JSON.stringify(dry.body));
  t.match(dry.body, { applied: false, dryRun: true });
  t.same(
    dry.body.diff.removed.map((r: Rule) => r.tenantId),
    [NORTHWIND],
  );
  t.same(await rulesNow(), before, 'a dry run writes nothing');

  const applied = await engine.run('ReplaceIsolationPolicy', {
    body: { enabled: true, rules: keep, confirmRemovals: true, reason: 'e2e replace' },
  });
  t.equal(applied.status, 'Succeeded', JSON.stringify(applied.body));
  t.match(applied.body, { applied: true, verified: true });
  const after = await rulesNow();
  t.notOk(ruleFor(after, NORTHWIND));
  t.match(ruleFor(after, FABRIKAM), { direction: 'Inbound' });
  t.match(ruleFor(after, '*'), { direction: 'Outbound' });
});

t.test('the audit trail lists the applied changes', async (t) => {
  const changes = await engine.run('ListIsolationChanges', {});
  t.equal(changes.status, 'Succeeded', JSON.stringify(changes.body));
  t.ok(JSON.stringify(changes.body).includes('e2e replace'));
});
