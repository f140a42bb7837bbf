// 429 storms with Retry-After: the relay waits as told and gets through a short storm, answers a
// long one with its own 429 + Retry-After and the error shape (never a hot loop of retries), never
// replays the install POST, and never loses or invents an isolation rule.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/index.js';
import { type Stack, startStack } from '../helpers/stack.js';
import { boundedRequest, checkAnswer, countCalls, storedRules } from './invariants.js';

const ENV = DEMO_ENVIRONMENTS.sales;
let stack: Stack;
t.before(async () => {
  stack = await startStack({ env: { RATE_LIMIT_PER_MINUTE: '100000', UPSTREAM_DEADLINE_SECONDS: '3' } });
});
t.teardown(() => stack.close());
t.beforeEach(() => stack.sim.control.reset());

t.test('a short storm on the package list: retried after Retry-After, then 200', async (t) => {
  stack.sim.control.addFault({
    route: 'ppapi.listPackages',
    kind: 'status',
    status: 429,
    retryAfter: '1',
    times: 2,
  });
  const res = await boundedRequest(stack, 'GET', `/v1/environments/${ENV}/packages`);
  checkAnswer(t, res, 'ListPackages');
  t.equal(res.status, 200, 'the storm passed within the deadline');
  t.equal(countCalls(stack, 'ppapi.listPackages'), 3, 'two throttled attempts and one that went through');
});

t.test(
  'an endless storm: 429 with Retry-After and the error shape, retries bounded by Retry-After',
  async (t) => {
    stack.sim.control.addFault({ route: 'bap.isolation.get', kind: 'status', status: 429, retryAfter: '1' });
    const res = await boundedRequest(stack, 'GET', '/v1/tenant-isolation');
    checkAnswer(t, res, 'GetIsolationPolicy');
    // Throttled to the end of the deadline: the 429 is passed on, so the flow engine waits as asked.
    t.equal(res.status, 429, 'still throttled at the deadline: 429, not an outage');
    t.equal(res.body.error.code, 'UpstreamThrottled');
    t.match(res.body.error.message, /throttl|429/i, 'the message says upstream was throttling');
    t.ok(Number(res.headers['retry-after']) >= 1, 'tells the caller when to come back');
    // 3 s deadline, 1 s Retry-After: at most a handful of attempts, never a hot loop.
    const calls = countCalls(stack, 'bap.isolation.get');
    t.ok(calls >= 1 && calls <= 5, `attempts stay bounded by the deadline and Retry-After (${calls})`);
  },
);

t.test('a storm on the install POST: the POST is never replayed, the answer is actionable', async (t) => {
  stack.sim.control.addFault({ route: 'ppapi.install', kind: 'status', status: 429, retryAfter: '2' });
  const res = await boundedRequest(
    stack,
    'POST',
    `/v1/environments/${ENV}/packages/ContosoExpenseApprovals/install`,
  );
  checkAnswer(t, res, 'InstallPackage');
  t.equal(res.status, 429);
  t.ok(Number(res.headers['retry-after']) >= 1);
  t.equal(countCalls(stack, 'ppapi.install'), 1, 'exactly one install POST');
});

t.test('concurrent rule writes through a PUT storm: no rule lost, none invented', async (t) => {
  const seeded = storedRules(stack);
  stack.sim.control.addFault({
    route: 'bap.isolation.put',
    kind: 'status',
    status: 429,
    retryAfter: '1',
    probability: 0.5,
    times: 12,
  });
  const tenants = Array.from({ length: 8 }, () => randomUUID());
  const answers = await Promise.all(
    tenants.map((tenant) =>
      boundedRequest(
        stack,
        'PUT',
        `/v1/tenant-isolation/rules/${tenant}`,
        { body: { direction: 'Both', reason: 'storm' } },
        60_000,
      ),
    ),
  );
  const rules = storedRules(stack);
  answers.forEach((res, i) => {
    checkAnswer(t, res, `UpsertIsolationRule #${i}`);
    t.ok(
      res.status === 200 || res.status === 429 || res.status === 409,
      `answer ${res.status} is success, throttled or conflict`,
    );
    if (res.status === 200)
      t.equal(rules.get(tenants[i]!), 'true/true', `a rule reported as written is stored (${tenants[i]})`);
    else t.notOk(rules.has(tenants[i]!), `a rule reported as not written is not stored (${tenants[i]})`);
  });
  for (const [tenant, dir] of seeded) t.equal(rules.get(tenant), dir, `seeded rule ${tenant} kept`);
  t.equal(rules.size, seeded.size + answers.filter((a) => a.status === 200).length, 'nothing else appeared');
});
