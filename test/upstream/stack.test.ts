// The shared harness itself: simulator + real upstream clients + the relay on 127.0.0.1, with
// readiness really reaching the simulator over HTTPS.
import t from 'tap';
import { startStack } from '../helpers/stack.js';

t.test('startStack wires the relay to the simulator', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  t.match(stack.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.equal(stack.config.publicBaseUrl, stack.baseUrl, 'publicBaseUrl is the real address');
  t.equal(stack.config.ppapiBaseUrl, stack.sim.origin);
  t.equal(stack.config.upstream, 'simulator');
  t.equal(stack.config.auditStore, 'memory');

  const health = await stack.request('GET', '/healthz');
  t.equal(health.status, 200);
  t.ok(health.headers['x-correlation-id']);

  const ready = await stack.request('GET', '/readyz');
  t.equal(ready.status, 200, JSON.stringify(ready.body));
  t.equal(ready.body.status, 'ready');
  t.ok(stack.sim.control.calls({ route: 'entra.token' }).length >= 2, 'tokens came from the simulator');
  t.ok(stack.sim.control.calls({ route: 'bap.tenant' }).length >= 1, 'BAP answered');
});

t.test('env overrides reach the config', async (t) => {
  const stack = await startStack({ env: { UPSTREAM_DEADLINE_SECONDS: '5' }, speed: 100 });
  t.teardown(() => stack.close());
  t.equal(stack.config.upstreamDeadlineMs, 5000);
});

t.test('upstream calls are counted in /metrics', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  await stack.request('GET', '/readyz');
  const metrics = await stack.request('GET', '/metrics');
  t.equal(metrics.status, 200);
  t.match(String(metrics.body), /relay_upstream_requests_total\{host="127\.0\.0\.1",status="200",retry="false"\} [1-9]/);
});
