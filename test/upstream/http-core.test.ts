// The HTTP core's edge rules against the simulator: a 401 gets one retry with a fresh token, a
// slow answer is cut at the call's deadline, Retry-After as an HTTP-date, and a TLS trust failure
// is reported at once with the setting that fixes it.
import t from 'tap';
import { systemClock } from '../../src/clock.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import { startUpstreamFixture } from '../helpers/upstream-fixture.js';

const SALES = '3f2e1d0c-9b8a-4776-a554-433221100ffe';

t.test('http core', async (t) => {
  const fx = await startUpstreamFixture();
  t.teardown(() => fx.close());
  const { control } = fx.sim;
  t.beforeEach(() => {
    control.reset();
    fx.clock.sleeps.length = 0;
  });

  t.test('401: one retry with a fresh token, then success', async (t) => {
    const up = fx.clients();
    await up.environments.list(fx.ctx());
    const tokensBefore = control.calls({ route: 'entra.token' }).length;
    control.addFault({ route: 'bap.environments', kind: 'status', status: 401, times: 1 });
    const envs = await up.environments.list(fx.ctx());
    t.ok(envs.length > 0);
    t.equal(control.calls({ route: 'entra.token' }).length - tokensBefore, 1, 'token fetched again');
    t.same(fx.clock.sleeps, [], 'no backoff for the token refresh');
  });

  t.test('401 twice: the error comes through', async (t) => {
    const up = fx.clients();
    control.addFault({ route: 'bap.environments', kind: 'status', status: 401, times: 2 });
    const err = await up.environments.list(fx.ctx()).catch((e) => e);
    t.type(err, UpstreamError);
    t.equal(err.status, 401);
    t.equal(control.calls({ route: 'bap.environments' }).length, 2);
  });

  t.test('a slow answer ends at the deadline, not when upstream finally answers', async (t) => {
    const up = fx.clients({}, { clock: systemClock });
    await up.environments.list(fx.ctx()); // token first, so only the slow call is timed
    const latencyMs = 2500;
    control.addFault({ route: 'bap.environments', kind: 'latency', latencyMs, times: 1 });
    const started = Date.now();
    const err = await up.environments.list(fx.ctx({ deadline: Date.now() + 300 })).catch((e) => e);
    const elapsed = Date.now() - started;
    t.type(err, UpstreamError);
    t.equal(err.kind, 'deadline');
    t.match(err.message, /gave up after 1 attempt\b/);
    t.match(err.message, /no answer before the call deadline/);
    t.ok(elapsed < latencyMs / 2, `ended after ${elapsed} ms, well before the ${latencyMs} ms answer`);
  });

  t.test('Retry-After as an HTTP-date', async (t) => {
    const at = new Date(Date.now() + 3000).toUTCString();
    control.addFault({ route: 'ppapi.listPackages', kind: 'status', status: 503, retryAfter: at, times: 1 });
    await fx.upstream.appManagement.listEnvironmentPackages(SALES, {}, fx.ctx());
    t.equal(fx.clock.sleeps.length, 1);
    t.ok(fx.clock.sleeps[0]! >= 1000 && fx.clock.sleeps[0]! <= 4000, `waited ${fx.clock.sleeps[0]} ms for a date ~3 s ahead`);
  });

  t.test('503 with the BAP envelope: code and message parsed', async (t) => {
    control.addFault({ route: 'bap.isolation.get', kind: 'status', status: 503, envelope: 'bap', code: 'ServiceBusy', message: 'Try later.' });
    const err = await fx.upstream.isolation.get(fx.sim.tenantId, fx.ctx({ deadline: fx.clock.now() + 3000 })).catch((e) => e);
    t.equal(err.kind, 'deadline');
    t.equal(err.code, 'ServiceBusy');
    t.equal(err.details.upstreamMessage, 'Try later.');
  });

  t.test('an untrusted certificate fails at once and names UPSTREAM_CA_FILE', async (t) => {
    const up = fx.clients({ UPSTREAM_CA_FILE: '' });
    const err = await up.tenantDiscovery.resolveDomain('fabrikam.com', fx.ctx()).catch((e) => e);
    t.type(err, UpstreamError);
    t.equal(err.kind, 'network');
    t.match(err.message, /UPSTREAM_CA_FILE/);
    t.same(fx.clock.sleeps, [], 'not retried');
    const tokenErr = await up.tenant.getOwnTenantId(fx.ctx()).catch((e) => e);
    t.equal(tokenErr.kind, 'token', 'token requests fail the same way, as token errors');
  });
});
