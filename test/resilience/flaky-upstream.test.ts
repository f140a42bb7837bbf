// 30 % of upstream calls fail with 5xx, or lose their connection: the mixed workload keeps every
// invariant (see workload.ts) — documented, actionable answers, no lost or resurrected rule, one
// install POST.
import t from 'tap';
import { startStack } from '../helpers/stack.js';
import { runMixedWorkload } from './workload.js';

const env = { RATE_LIMIT_PER_MINUTE: '100000', UPSTREAM_DEADLINE_SECONDS: '5' };

for (const status of [503, 500]) {
  t.test(`30% of upstream calls answer ${status}`, async (t) => {
    const stack = await startStack({ env });
    t.teardown(() => stack.close());
    stack.sim.control.addFault({ route: '*', kind: 'status', status, probability: 0.3 });
    await runMixedWorkload(t, stack);
    const faulted = stack.sim.control.calls().filter((c) => c.faults?.length).length;
    t.ok(faulted > 0, `faults fired (${faulted} calls)`);
  });
}

t.test('30% of upstream calls lose their connection', async (t) => {
  const stack = await startStack({ env });
  t.teardown(() => stack.close());
  stack.sim.control.addFault({ route: '*', kind: 'reset', probability: 0.3 });
  await runMixedWorkload(t, stack);
  const resets = stack.sim.control.calls().filter((c) => c.status === 0).length;
  t.ok(resets > 0, `connections were reset (${resets})`);
});

t.test('every install POST is reset: one POST per request, the answer says what to do', async (t) => {
  const stack = await startStack({ env });
  t.teardown(() => stack.close());
  stack.sim.control.addFault({ route: 'ppapi.install', kind: 'reset' });
  const { boundedRequest, checkAnswer } = await import('./invariants.js');
  const { DEMO_ENVIRONMENTS } = await import('../../src/simulator/index.js');
  const res = await boundedRequest(
    stack,
    'POST',
    `/v1/environments/${DEMO_ENVIRONMENTS.sales}/packages/ContosoExpenseApprovals/install`,
  );
  checkAnswer(t, res, 'InstallPackage');
  t.ok(
    res.status >= 500 || res.status === 202,
    `an upstream failure status or a join of an install it can see (${res.status})`,
  );
  t.equal(stack.sim.control.calls({ route: 'ppapi.install' }).length, 1, 'the POST is not replayed');
});
