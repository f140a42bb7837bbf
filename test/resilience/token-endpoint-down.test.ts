// The Entra ID token endpoint is down before the relay has a token (a fresh stack: tokens are
// cached): every upstream-backed request ends with the error shape naming the token problem, no
// upstream API call is made without a token, no request is held past the call deadline (the
// bound in boundedRequest), /readyz says not ready, and all recovers once the endpoint is back.
import t from 'tap';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/index.js';
import { startStack } from '../helpers/stack.js';
import { boundedRequest, checkAnswer } from './invariants.js';

const ENV = DEMO_ENVIRONMENTS.sales;
const REQUESTS: Array<[string, string, unknown?]> = [
  ['GET', '/v1/environments'],
  ['GET', `/v1/environments/${ENV}/packages`],
  ['POST', `/v1/environments/${ENV}/packages/ContosoExpenseApprovals/install`],
  ['GET', '/v1/tenant-isolation'],
  ['PUT', '/v1/tenant-isolation/rules/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b', { direction: 'Both' }],
];

for (const fault of [
  { kind: 'status' as const, status: 503 },
  { kind: 'status' as const, status: 500 },
  { kind: 'reset' as const },
]) {
  t.test(`token endpoint ${fault.kind} ${fault.status ?? ''}`, async (t) => {
    const stack = await startStack({ env: { RATE_LIMIT_PER_MINUTE: '100000', UPSTREAM_DEADLINE_SECONDS: '1' } });
    t.teardown(() => stack.close());
    stack.sim.control.addFault({ route: 'entra.token', ...fault });

    for (const [method, path, body] of REQUESTS) {
      const res = await boundedRequest(stack, method, path, body === undefined ? {} : { body });
      checkAnswer(t, res, `${method} ${path}`);
      t.ok(res.status >= 502 && res.status <= 504, `${method} ${path}: an upstream-unavailable status (${res.status})`);
      t.match(res.body.error.message, /token|Entra/i, 'the message points at getting a token');
    }
    const apiCalls = stack.sim.control.calls().filter((c) => !c.route.startsWith('entra.'));
    t.equal(apiCalls.length, 0, 'no upstream API call went out without a token');
    t.equal(stack.sim.control.calls({ route: 'ppapi.install' }).length, 0, 'no install POST');
    const ready = await boundedRequest(stack, 'GET', '/readyz');
    t.not(ready.status, 200, '/readyz reports not ready');

    // Back up: a token fetch still retrying inside identity may fail one more request; within a
    // few tries every request works again (not after MSAL's 60 s throttle).
    stack.sim.control.clearFaults();
    for (const [method, path] of REQUESTS.slice(0, 2)) {
      let res = await boundedRequest(stack, method, path);
      for (let i = 0; i < 10 && res.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 500));
        res = await boundedRequest(stack, method, path);
      }
      checkAnswer(t, res, `${method} ${path} after recovery`);
      t.equal(res.status, 200, `${method} ${path} works again`);
    }
  });
}
