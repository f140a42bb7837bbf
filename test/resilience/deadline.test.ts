// Upstream slower than the call deadline (UPSTREAM_DEADLINE_SECONDS=1): every request is answered
// with 504 and the error shape instead of hanging; a write cut at its deadline is never reported
// as done, and a retry afterwards leaves exactly one rule; the install POST is not replayed.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/index.js';
import { type Stack, startStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait-for.js';
import { boundedRequest, boundedUrl, checkAnswer, countCalls } from './invariants.js';

const ENV = DEMO_ENVIRONMENTS.sales;
// Generous bound: a request must end long before this (deadline 1 s); reaching it means a hang.
const BOUND_MS = 20_000;
let stack: Stack;
t.before(async () => {
  stack = await startStack({ env: { RATE_LIMIT_PER_MINUTE: '100000', UPSTREAM_DEADLINE_SECONDS: '1' } });
});
t.teardown(() => stack.close());
t.beforeEach(() => stack.sim.control.reset());

t.test('reads: 504 UpstreamUnavailable with Retry-After, not a hang', async (t) => {
  stack.sim.control.addFault({ route: 'ppapi.listPackages', kind: 'latency', latencyMs: 4000 });
  stack.sim.control.addFault({ route: 'bap.isolation.get', kind: 'latency', latencyMs: 4000 });
  const answers = await Promise.all([
    boundedRequest(stack, 'GET', `/v1/environments/${ENV}/packages`, {}, BOUND_MS),
    boundedRequest(stack, 'GET', `/v1/environments/${ENV}/packages/msdyn_ContosoSurveysAnchor`, {}, BOUND_MS),
    boundedRequest(stack, 'GET', '/v1/tenant-isolation', {}, BOUND_MS),
  ]);
  for (const res of answers) {
    checkAnswer(t, res, 'read past the deadline');
    t.equal(res.status, 504);
    t.equal(res.body.error.code, 'UpstreamUnavailable');
    t.ok(Number(res.headers['retry-after']) >= 1, 'says when to retry');
  }
});

t.test('a rule write cut at its deadline is not reported as done; the retry leaves one rule', async (t) => {
  const tenant = randomUUID();
  const revisionBefore = stack.sim.control.policyRevision();
  stack.sim.control.addFault({ route: 'bap.isolation.put', kind: 'latency', latencyMs: 3000, times: 1 });
  const first = await boundedRequest(stack, 'PUT', `/v1/tenant-isolation/rules/${tenant}`, { body: { direction: 'Inbound' } }, BOUND_MS);
  checkAnswer(t, first, 'UpsertIsolationRule past the deadline');
  t.not(first.status, 200, 'not reported as applied');
  t.ok(first.status >= 500, `an upstream-unavailable status (${first.status})`);
  // The relay gave up on the slow PUT, but upstream still stores it when its latency ends.
  // The relay hung up on the slow PUT; the retry goes out once upstream has dropped it, so the
  // two cannot cross.
  await waitFor(
    () => stack.sim.control.calls({ route: 'bap.isolation.put' }).some((c) => c.droppedCallerGone),
    'upstream to drop the PUT the relay gave up on',
  );
  t.equal(stack.sim.control.policyRevision(), revisionBefore, 'the dropped PUT stored nothing');
  const retry = await boundedRequest(stack, 'PUT', `/v1/tenant-isolation/rules/${tenant}`, { body: { direction: 'Inbound' } }, BOUND_MS);
  checkAnswer(t, retry, 'UpsertIsolationRule retry');
  t.equal(retry.status, 200);
  const policy = await boundedRequest(stack, 'GET', '/v1/tenant-isolation');
  const mine = (policy.body.rules as Array<{ tenantId: string; direction: string }>).filter((r) => r.tenantId === tenant);
  t.same(
    mine.map((r) => r.direction),
    ['Inbound'],
    'exactly one rule, as asked',
  );
});

t.test('an install POST past its deadline is not replayed; waits past the deadline end', async (t) => {
  stack.sim.control.addFault({ route: 'ppapi.install', kind: 'latency', latencyMs: 3000, times: 1 });
  const res = await boundedRequest(stack, 'POST', `/v1/environments/${ENV}/packages/ContosoExpenseApprovals/install`, {}, BOUND_MS);
  checkAnswer(t, res, 'InstallPackage past the deadline');
  t.equal(countCalls(stack, 'ppapi.install'), 1, 'one POST');

  // A wait whose status calls are all slower than the deadline still ends.
  stack.sim.control.clearFaults();
  stack.sim.control.setSpeed(1e-9);
  const started = await boundedRequest(stack, 'POST', `/v1/environments/${ENV}/packages/msdyn_ContosoSurveysAnchor/install`, {}, BOUND_MS);
  checkAnswer(t, started, 'InstallPackage');
  t.equal(started.status, 202);
  stack.sim.control.addFault({ route: 'ppapi.operation', kind: 'latency', latencyMs: 4000 });
  const waited = await boundedUrl(`${started.headers.location}&waitSeconds=2`, 'GET', {}, undefined, BOUND_MS);
  checkAnswer(t, waited, 'wait URL with slow status calls');
  t.ok([202, 504, 503].includes(waited.status), `still running or upstream unavailable (${waited.status})`);
});
