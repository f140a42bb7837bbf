// "When the tenant isolation policy changes", run as the platform runs a polling trigger: the first
// check sets the baseline (202 + Location + Retry-After), later checks follow Location; 202 means
// nothing fired, 200 fires its items. Outside writers are the simulator's own store, written
// directly, as the admin center or PowerShell would.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { type Stack, startStack } from '../helpers/stack.js';
import { FlowEngine, type TriggerState } from './flow-engine.js';

const TRIGGER = 'OnIsolationPolicyChanged';
const FABRIKAM = '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3';
const WOODGROVE = 'b1c2d3e4-f5a6-4b7c-9d8e-0f1a2b3c4d5e';
const tenantN = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const dir = await mkdtemp(join(tmpdir(), 'relay-trigger-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const stack: Stack = await startStack({ env: { AUDIT_STORE: `file:${join(dir, 'audit.jsonl')}` } });
t.teardown(() => stack.close());
const definition = (await stack.request('GET', '/apiDefinition.swagger.json', { headers: { 'x-api-key': '' } })).body;
const origin = `${definition.schemes[0]}://${definition.host}`;
const engine = new FlowEngine({ definition, origin, connection: { apiKey: stack.apiKey } });

// biome-ignore lint/suspicious/noExplicitAny: raw upstream document in tests
type Raw = { properties: { allowedTenants: any[]; isDisabled?: boolean; tenantId?: string } };
const outsideWrite = (edit: (raw: Raw) => void) => {
  const raw = structuredClone(stack.sim.control.getPolicy()) as Raw;
  edit(raw);
  stack.sim.control.setPolicy(raw.properties.tenantId!, raw);
};

async function baseline(pollSeconds = 60): Promise<TriggerState> {
  const first = await engine.pollTrigger(TRIGGER, { pollSeconds });
  if (first.statusCode !== 202 || !first.next) throw new Error(`baseline: ${first.statusCode} ${JSON.stringify(first.body)}`);
  return first.next;
}

t.test('the first check records a baseline: 202, Location with a cursor, Retry-After as chosen', async (t) => {
  const first = await engine.pollTrigger(TRIGGER, { pollSeconds: 45 });
  t.equal(first.statusCode, 202);
  t.notOk(first.fired);
  t.ok(first.next);
  t.match(first.next!.location, /\/v1\/tenant-isolation\/trigger\/changes\?pollSeconds=45&cursor=/);
  t.equal(first.next!.retryAfterMs, 45_000);
});

t.test('a poll interval out of bounds is a 400 that names the bounds', async (t) => {
  const tooOften = await engine.pollTrigger(TRIGGER, { pollSeconds: 5 });
  t.equal(tooOften.statusCode, 400);
  t.match(tooOften.body.error.message, /30/);
});

t.test('an edited cursor is a 400 InvalidTriggerCursor', async (t) => {
  const state = await baseline();
  const bad = await engine.pollTrigger(TRIGGER, {}, { ...state, location: state.location.replace(/cursor=[^&]+/, 'cursor=bm9wZQ') });
  t.equal(bad.statusCode, 400);
  t.equal(bad.body.error.code, 'InvalidTriggerCursor');
});

t.test('an outside change fires exactly one item with its diff, "outside the relay"', async (t) => {
  let state = await baseline();
  const before = stack.sim.control.getPolicy() as Raw;
  outsideWrite((raw) => {
    raw.properties.allowedTenants.push({ tenantId: WOODGROVE, direction: { inbound: true, outbound: true } });
    raw.properties.allowedTenants = raw.properties.allowedTenants.filter((r) => r.tenantId !== FABRIKAM);
  });
  const fired = await engine.pollTrigger(TRIGGER, {}, state);
  t.equal(fired.statusCode, 200);
  t.equal(fired.items.length, 1, JSON.stringify(fired.items));
  const [item] = fired.items;
  t.equal(item.madeBy, 'outside the relay');
  t.equal(item.actor, null);
  t.same(item.diff.added.map((r: { tenantId: string }) => r.tenantId), [WOODGROVE]);
  t.same(item.diff.removed.map((r: { tenantId: string }) => r.tenantId), [FABRIKAM]);
  t.same(item.diff.changed, []);
  t.not(item.revisionBefore, item.revisionAfter);
  t.ok(Date.parse(item.seenAt));
  t.ok(before, 'the seeded policy was there');
  state = fired.next!;
  const quiet = await engine.pollTrigger(TRIGGER, {}, state);
  t.equal(quiet.statusCode, 202, 'the same change is not reported again');
});

t.test('a relay change fires with its actor, reason and change id', async (t) => {
  const state = await baseline();
  const upsert = await engine.run('UpsertIsolationRule', { tenant: FABRIKAM, 'body/direction': 'Both', 'body/reason': 'partner onboarding' });
  t.equal(upsert.status, 'Succeeded', JSON.stringify(upsert.body));
  const fired = await engine.pollTrigger(TRIGGER, {}, state);
  t.equal(fired.statusCode, 200, JSON.stringify(fired.body));
  t.equal(fired.items.length, 1, JSON.stringify(fired.items));
  t.match(fired.items[0], { madeBy: 'relay', reason: 'partner onboarding', changeId: upsert.body.changeId });
  t.ok(fired.items[0].actor);
  t.match(fired.items[0].diff.added.concat(fired.items[0].diff.changed), [{ tenantId: FABRIKAM }]);
});

t.test('ten relay changes between two checks: ten items in order, none lost', async (t) => {
  const state = await baseline();
  for (let i = 1; i <= 10; i++) {
    const r = await engine.run('UpsertIsolationRule', { tenant: tenantN(i), 'body/direction': 'Inbound', 'body/reason': `batch ${i}` });
    t.equal(r.status, 'Succeeded', JSON.stringify(r.body));
  }
  const fired = await engine.pollTrigger(TRIGGER, {}, state);
  t.equal(fired.items.length, 10, JSON.stringify(fired.items.map((i: { reason: string }) => i.reason)));
  t.same(fired.items.map((i: { reason: string }) => i.reason), Array.from({ length: 10 }, (_, i) => `batch ${i + 1}`));
  for (const [i, item] of fired.items.entries()) {
    t.same(item.diff.added.map((r: { tenantId: string }) => r.tenantId), [tenantN(i + 1)]);
    if (i > 0) t.equal(item.revisionBefore, fired.items[i - 1].revisionAfter, 'the items chain');
  }
});

t.test('outside changes between relay changes: each stretch is one item, in its place', async (t) => {
  const state = await baseline();
  outsideWrite((raw) => raw.properties.allowedTenants.push({ tenantId: tenantN(101), direction: { inbound: true, outbound: false } }));
  outsideWrite((raw) => raw.properties.allowedTenants.push({ tenantId: tenantN(102), direction: { inbound: true, outbound: false } }));
  const r = await engine.run('RemoveIsolationRule', { tenant: tenantN(101), reason: 'not approved' });
  t.equal(r.status, 'Succeeded', JSON.stringify(r.body));
  outsideWrite((raw) => {
    raw.properties.isDisabled = !raw.properties.isDisabled;
  });
  const fired = await engine.pollTrigger(TRIGGER, {}, state);
  t.same(fired.items.map((i: { madeBy: string }) => i.madeBy), ['outside the relay', 'relay', 'outside the relay']);
  t.same(fired.items[0].diff.added.map((x: { tenantId: string }) => x.tenantId), [tenantN(101), tenantN(102)]);
  t.same(fired.items[1].diff.removed.map((x: { tenantId: string }) => x.tenantId), [tenantN(101)]);
  t.not(fired.items[2].diff.enabledBefore, fired.items[2].diff.enabledAfter);
});

t.test('nothing fires over 60 checks when nothing changed', async (t) => {
  let state = await baseline();
  const reads = stack.sim.control.calls({ route: 'bap.isolation.get' }).length;
  let fired = 0;
  for (let i = 0; i < 60; i++) {
    const check = await engine.pollTrigger(TRIGGER, {}, state);
    t.equal(check.statusCode, 202);
    if (check.fired) fired++;
    state = check.next!;
  }
  t.equal(fired, 0);
  t.equal(stack.sim.control.calls({ route: 'bap.isolation.get' }).length - reads, 60, 'one upstream read per check');
});

t.test('after a relay restart the same cursor carries on: no item repeated, new ones reported', async (t) => {
  let state = await baseline();
  outsideWrite((raw) => raw.properties.allowedTenants.push({ tenantId: tenantN(201), direction: { inbound: false, outbound: true } }));
  const first = await engine.pollTrigger(TRIGGER, {}, state);
  t.equal(first.items.length, 1);
  state = first.next!;

  await stack.app.close();
  const restarted = await buildApp({ config: stack.config, upstream: stack.upstream });
  t.teardown(() => restarted.close());
  await restarted.listen({ host: '127.0.0.1', port: 0 });
  const address = restarted.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const newOrigin = `http://127.0.0.1:${address.port}`;
  const relocate = (s: TriggerState): TriggerState => ({ ...s, location: s.location.replace(/^https?:\/\/[^/]+/, newOrigin) });
  const engine2 = new FlowEngine({ definition, origin: newOrigin, connection: { apiKey: stack.apiKey } });

  const again = await engine2.pollTrigger(TRIGGER, {}, relocate(state));
  t.equal(again.statusCode, 202, `nothing is reported twice: ${JSON.stringify(again.body)}`);
  outsideWrite((raw) => raw.properties.allowedTenants.push({ tenantId: tenantN(202), direction: { inbound: false, outbound: true } }));
  const next = await engine2.pollTrigger(TRIGGER, {}, relocate(again.next!));
  t.equal(next.items.length, 1);
  t.same(next.items[0].diff.added.map((x: { tenantId: string }) => x.tenantId), [tenantN(202)]);
  t.equal(next.items[0].revisionBefore, first.items[0].revisionAfter, 'it carries on from where it was');
});
