// A rule write whose PUT fails, over HTTP against the simulator. The PUT is a full replace with no
// ETag, so it is never resent blindly: the relay reads the policy and tells the truth. A PUT that
// landed behind a 5xx is reported as applied (and another writer's rule kept), one that did not
// land is redone on the fresh policy, and one whose outcome cannot be known leaves the audit intent
// reading "unknown" and says so.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import type { IsolationClient } from '../../src/upstream/types.js';
import { type Stack, startStack } from '../helpers/stack.js';
import { OUTSIDER_NAME, type Raw } from './fixtures.js';

type Record = { changeId: string; outcome: string; verified: boolean | null; completedAt: string | null };

let stack: Stack;
t.before(async () => {
  stack = await startStack({ env: { UPSTREAM_DEADLINE_SECONDS: '2' } });
});
t.teardown(() => stack.close());
t.beforeEach(() => {
  stack.sim.control.reset();
  stack.sim.control.setOption('isolationPut', 'sync');
});

const stored = () => stack.sim.control.getPolicy() as Raw;
const ruleOf = (tenant: string) =>
  stored().properties.allowedTenants.find((e) => String(e.tenantId).toLowerCase() === tenant);
const outsiderRules = () =>
  stored().properties.allowedTenants.filter((e) => e.tenantDisplayName === OUTSIDER_NAME);
const puts = () => stack.sim.control.calls({ route: 'bap.isolation.put' }).length;
const auditOf = async (changeId: string): Promise<Record | undefined> => {
  const res = await stack.request('GET', '/v1/tenant-isolation/changes?pageSize=50');
  return (res.body.value as Record[]).find((r) => r.changeId === changeId);
};
const upsert = (tenant: string) =>
  stack.request('PUT', `/v1/tenant-isolation/rules/${tenant}`, { body: { direction: 'Both' } });

t.test(
  'a PUT that landed behind a 503, with another writer right after: not resent, nobody loses a rule',
  async (t) => {
    const tenant = randomUUID();
    stack.sim.control.addFault({
      route: 'bap.isolation.put',
      kind: 'outsideWriter',
      mutate: 'addRule',
      times: 1,
    });
    stack.sim.control.addFault({
      route: 'bap.isolation.put',
      kind: 'status',
      status: 503,
      after: true,
      times: 1,
    });

    const res = await upsert(tenant);
    t.equal(res.status, 200, 'our change is in place');
    t.equal(puts(), 1, 'the PUT was not resent over the other writer');
    t.equal(outsiderRules().length, 1, "the other writer's rule survives");
    t.match(ruleOf(tenant), { direction: { inbound: true, outbound: true } }, 'our rule is stored');
    t.equal(res.body.applied, true);
    t.equal(res.body.verified, true, 'verified: our change is there, theirs is listed beside it');
    t.same(
      res.body.concurrentChanges.added.map((r: { tenantDisplayName: string }) => r.tenantDisplayName),
      [OUTSIDER_NAME],
      "the answer names the other writer's change",
    );
    t.match(await auditOf(res.body.changeId), { outcome: 'applied', verified: true });
  },
);

t.test('a PUT that landed behind a 503 on its own: applied and verified, one PUT', async (t) => {
  const tenant = randomUUID();
  stack.sim.control.addFault({
    route: 'bap.isolation.put',
    kind: 'status',
    status: 503,
    after: true,
    times: 1,
  });
  const res = await upsert(tenant);
  t.equal(res.status, 200);
  t.equal(res.body.verified, true);
  t.equal(res.body.concurrentChanges, null);
  t.equal(puts(), 1);
  t.match(await auditOf(res.body.changeId), { outcome: 'applied', verified: true });
});

t.test(
  'a PUT refused with a 503 (nothing stored) is redone on a fresh read, within the attempt bound',
  async (t) => {
    const tenant = randomUUID();
    stack.sim.control.addFault({ route: 'bap.isolation.put', kind: 'status', status: 503, times: 1 });
    const res = await upsert(tenant);
    t.equal(res.status, 200);
    t.equal(res.body.attempts, 2, 'the second PUT did it');
    t.equal(puts(), 2);
    t.ok(ruleOf(tenant));

    // Upstream keeps failing: the relay stops after its bound and says the change is not in place.
    const other = randomUUID();
    stack.sim.control.addFault({ route: 'bap.isolation.put', kind: 'status', status: 503 });
    const before = puts();
    const failed = await upsert(other);
    t.equal(failed.status, 503);
    t.equal(puts() - before, 4, 'four PUTs, no more');
    t.notOk(ruleOf(other));
    const records = (await stack.request('GET', '/v1/tenant-isolation/changes?pageSize=1')).body
      .value as Record[];
    t.match(records[0], { outcome: 'failed', verified: false });
  },
);

t.test('a 429 is resent after Retry-After (upstream did not process it)', async (t) => {
  const tenant = randomUUID();
  stack.sim.control.addFault({
    route: 'bap.isolation.put',
    kind: 'status',
    status: 429,
    retryAfter: '1',
    times: 1,
  });
  const res = await upsert(tenant);
  t.equal(res.status, 200);
  t.equal(res.body.attempts, 1, 'one PUT as far as the service is concerned');
  t.equal(puts(), 2, 'http-core resent the throttled PUT');
});

t.test(
  'a PUT cut without an answer that did not (yet) land: outcome unknown, intent left "unknown"',
  async (t) => {
    const tenant = randomUUID();
    stack.sim.control.addFault({ route: 'bap.isolation.put', kind: 'reset', times: 1 });
    const res = await upsert(tenant);
    t.equal(res.status, 504);
    t.equal(res.body.error.code, 'IsolationOutcomeUnknown');
    t.match(res.body.error.message, /unknown.*GetIsolationPolicy/);
    t.equal(puts(), 1, 'not resent');
    const changeId = res.body.error.details.changeId as string;
    t.match(await auditOf(changeId), { outcome: 'unknown', completedAt: null });
  },
);

t.test('a reset after the PUT stored, with another writer: applied, their rule kept', async (t) => {
  const tenant = randomUUID();
  stack.sim.control.addFault({
    route: 'bap.isolation.put',
    kind: 'outsideWriter',
    mutate: 'addRule',
    times: 1,
  });
  stack.sim.control.addFault({ route: 'bap.isolation.put', kind: 'reset', after: true, times: 1 });
  const res = await upsert(tenant);
  t.equal(res.status, 200);
  t.equal(res.body.verified, true);
  t.equal(puts(), 1);
  t.equal(outsiderRules().length, 1);
  t.ok(ruleOf(tenant));
});

t.test(
  'a failed PUT whose check read fails too: no "failed" record, the answer says read the policy',
  async (t) => {
    const tenant = randomUUID();
    // The simulator's isolation client, with one hook: when the PUT goes out, reads start failing
    // (BAP goes down right after our PUT landed behind its 503).
    const isolation: IsolationClient = {
      get: (...args) => stack.upstream.isolation.get(...args),
      put: (...args) => {
        stack.sim.control.addFault({ route: 'bap.isolation.get', kind: 'status', status: 503 });
        return stack.upstream.isolation.put(...args);
      },
    };
    const app = await buildApp({ config: stack.config, upstream: { ...stack.upstream, isolation } });
    t.teardown(() => app.close());
    stack.sim.control.addFault({
      route: 'bap.isolation.put',
      kind: 'status',
      status: 503,
      after: true,
      times: 1,
    });
    const res = await app.inject({
      method: 'PUT',
      url: `/v1/tenant-isolation/rules/${tenant}`,
      headers: { 'x-api-key': stack.apiKey, 'content-type': 'application/json' },
      payload: { direction: 'Both' },
    });
    stack.sim.control.clearFaults();
    t.equal(res.statusCode, 504);
    const error = res.json().error;
    t.equal(error.code, 'IsolationOutcomeUnknown');
    t.match(error.message, /whether it was applied is unknown.*GetIsolationPolicy/);
    t.ok(ruleOf(tenant), 'it did land upstream');
    const list = await app.inject({
      method: 'GET',
      url: '/v1/tenant-isolation/changes?pageSize=5',
      headers: { 'x-api-key': stack.apiKey },
    });
    const record = (list.json().value as Record[]).find((r) => r.changeId === error.details.changeId);
    t.match(record, { outcome: 'unknown', completedAt: null }, 'not recorded as failed');
  },
);

t.test('an async PUT (202) not finished by the deadline: unknown, not failed; it lands later', async (t) => {
  const tenant = randomUUID();
  stack.sim.control.setOption('isolationPut', 'async');
  stack.sim.control.setSpeed(1); // the simulated update takes 1 s; the poll waits 2 s: past the 2 s deadline
  const res = await upsert(tenant);
  t.equal(res.status, 504);
  t.equal(res.body.error.code, 'IsolationOutcomeUnknown');
  t.match(await auditOf(res.body.error.details.changeId), { outcome: 'unknown' });
  stack.sim.control.advanceClock(1500);
  const policy = await stack.request('GET', '/v1/tenant-isolation');
  t.ok(
    policy.body.rules.some((r: { tenantId: string }) => r.tenantId === tenant),
    'the update completed upstream afterwards, as "unknown" allowed',
  );
});
