// Another admin writes the policy around every one of our PUTs (the simulator's outsideWriter:
// right after each PUT stores, or right after each GET so our copy is stale). Whatever the relay
// answers, nobody's rule is lost: the other admin's rules all survive, every change we report as
// applied is there, every rule we report as removed is gone, and untouched rules stay as they were.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { type Stack, startStack } from '../helpers/stack.js';
import { boundedRequest, checkAnswer, storedRules } from './invariants.js';

const FABRIKAM = '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3';
const NORTHWIND = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';

type Raw = { properties?: { isDisabled?: boolean; allowedTenants?: Array<{ tenantId?: string; tenantDisplayName?: string }> } };

let stack: Stack;
t.before(async () => {
  stack = await startStack({ env: { RATE_LIMIT_PER_MINUTE: '100000', UPSTREAM_DEADLINE_SECONDS: '5' } });
});
t.teardown(() => stack.close());
t.beforeEach(() => stack.sim.control.reset());

/** Every tenant id in the stored policy that our requests never named: the other admin's. */
const foreignRules = (ours: Set<string>) =>
  ((stack.sim.control.getPolicy() as Raw).properties?.allowedTenants ?? [])
    .map((e) => String(e.tenantId).toLowerCase())
    .filter((id) => !ours.has(id));

for (const route of ['bap.isolation.put', 'bap.isolation.get'] as const) {
  t.test(`an outside writer after every ${route === 'bap.isolation.put' ? 'PUT' : 'GET'}`, async (t) => {
    const seeded = storedRules(stack);
    stack.sim.control.addFault({ route, kind: 'outsideWriter', mutate: 'addRule' });

    const added = Array.from({ length: 5 }, () => randomUUID());
    const ours = new Set([...seeded.keys(), ...added]);
    const [removeAnswer, changeAnswer, ...addAnswers] = await Promise.all([
      boundedRequest(stack, 'DELETE', `/v1/tenant-isolation/rules/${FABRIKAM}`, {}, 60_000),
      boundedRequest(stack, 'PUT', `/v1/tenant-isolation/rules/${NORTHWIND}`, { body: { direction: 'Both' } }, 60_000),
      ...added.map((tenant) => boundedRequest(stack, 'PUT', `/v1/tenant-isolation/rules/${tenant}`, { body: { direction: 'Inbound' } }, 60_000)),
    ]);
    const rules = storedRules(stack);
    t.comment(`answers: ${[removeAnswer!, changeAnswer!, ...addAnswers].map((a) => a.status).join(' ')}`);

    for (const [i, res] of [removeAnswer!, changeAnswer!, ...addAnswers].entries()) {
      checkAnswer(t, res, `write #${i}`);
      t.ok(res.status === 200 || res.status === 409, `applied or an actionable conflict (${res.status})`);
      if (res.status === 409) t.match(res.body.error.message, /chang|concurrent|another|retry/i, 'the conflict says what happened');
    }
    if (removeAnswer!.status === 200) t.notOk(rules.has(FABRIKAM), 'the removed rule is gone (not resurrected)');
    else t.equal(rules.get(FABRIKAM), seeded.get(FABRIKAM), 'the rule a failed remove named is unchanged');
    if (changeAnswer!.status === 200) t.equal(rules.get(NORTHWIND), 'true/true', 'the changed rule has its new direction');
    addAnswers.forEach((res, i) => {
      if (res.status === 200) t.equal(rules.get(added[i]!), 'true/false', `added rule ${added[i]} is there`);
    });
    t.equal(rules.get('*'), seeded.get('*'), 'the untouched rule is unchanged');

    const foreign = foreignRules(ours);
    t.ok(foreign.length > 0, 'the other admin added rules');
    // The other admin added one rule per faulted call; every one of them is still there (none
    // silently dropped by our read-modify-write).
    const outsideWrites = stack.sim.control.calls({ route }).filter((c) => c.status === 200).length;
    t.equal(foreign.length, outsideWrites, `all ${outsideWrites} rules the other admin added survive`);
    t.equal(new Set(foreign).size, foreign.length, 'no foreign rule duplicated');
  });
}
