// BAP and Entra discovery against the simulator: tenant lookup (cached), environments, the
// isolation policy (round trip with unknown fields, never-configured variants, async PUT, retried
// PUT, errors), the unregistered-service-principal 403, and domain → tenant discovery.
import t from 'tap';
import { UpstreamError } from '../../src/upstream/errors.js';
import type { RawIsolationPolicy } from '../../src/upstream/types.js';
import { startUpstreamFixture } from '../helpers/upstream-fixture.js';

const FABRIKAM = '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3';

t.test('bap', async (t) => {
  const fx = await startUpstreamFixture();
  t.teardown(() => fx.close());
  const up = fx.upstream;
  const { control } = fx.sim;
  const tenantId = fx.sim.tenantId;
  t.beforeEach(() => {
    control.reset();
    fx.clock.sleeps.length = 0;
  });

  t.test('tenant lookup, cached', async (t) => {
    t.equal(await up.tenant.getOwnTenantId(fx.ctx()), tenantId.toLowerCase());
    t.equal(await up.tenant.getOwnTenantId(fx.ctx()), tenantId.toLowerCase());
    t.equal(control.calls({ route: 'bap.tenant' }).length, 1, 'one lookup');
  });

  t.test('environments', async (t) => {
    const envs = await up.environments.list(fx.ctx());
    t.ok(envs.length >= 3);
    t.ok(envs.some((e) => e.hasDataverse && e.dataverseUrl), 'some with Dataverse');
    t.ok(envs.some((e) => !e.hasDataverse && !e.dataverseUrl), 'one without');
    const one = await up.environments.get(envs[0]!.id, fx.ctx());
    t.same(one, envs[0]);
    t.equal(await up.environments.get('00000000-0000-4000-8000-000000000000', fx.ctx()), null, 'unknown → null');
  });

  t.test('isolation: round trip keeps unknown fields', async (t) => {
    const seeded = await up.isolation.get(tenantId, fx.ctx());
    t.ok(seeded?.properties?.allowedTenants?.length);
    const doc: RawIsolationPolicy = {
      futureTopLevel: { keep: true },
      properties: {
        tenantId,
        isDisabled: false,
        futureProperty: 'x',
        allowedTenants: [
          { tenantId: FABRIKAM, tenantDisplayName: 'Fabrikam', futureRuleField: 7, direction: { inbound: true, outbound: true, futureFlag: false } },
          { tenantId: '*', direction: { inbound: false, outbound: true } },
        ],
      },
    };
    const answered = await up.isolation.put(tenantId, doc, fx.ctx());
    t.match(answered, doc, 'the PUT answer is the stored document');
    const readBack = await up.isolation.get(tenantId, fx.ctx());
    t.match(readBack, doc, 'unknown fields at every level survive');
    t.match(control.getPolicy(tenantId), doc);
  });

  t.test('isolation: never configured', async (t) => {
    for (const variant of ['404', 'null', 'empty'] as const) {
      control.setPolicy(tenantId, undefined);
      control.setOption('neverConfiguredResponse', variant);
      t.equal(await up.isolation.get(tenantId, fx.ctx()), null, `${variant} → null`);
    }
    control.setOption('neverConfiguredResponse', 'emptyPolicy');
    const empty = await up.isolation.get(tenantId, fx.ctx());
    t.same(empty?.properties?.allowedTenants, [], 'terraform empty fixture comes through raw');
    t.equal(empty?.properties?.tenantId, undefined, 'missing tenantId tolerated');
  });

  t.test('isolation: asynchronous PUT (202 + Location) is followed to the end', async (t) => {
    control.setOption('isolationPut', 'async');
    const doc = { properties: { tenantId, isDisabled: true, allowedTenants: [] } };
    const result = await up.isolation.put(tenantId, doc, fx.ctx());
    t.match(result, doc, 'returns the policy read after completion');
    t.ok(control.calls({ route: 'bap.isolation.operation' }).length >= 1, 'polled');
    t.ok(fx.clock.sleeps.length >= 1 && fx.clock.sleeps.every((ms) => ms >= 2000 && ms <= 60_000), `clamped waits ${fx.clock.sleeps}`);
  });

  t.test('isolation: PUT is resent after 429 (throttled, so upstream did not process it)', async (t) => {
    control.addFault({ route: 'bap.isolation.put', kind: 'status', status: 429, retryAfter: '2', times: 1 });
    const doc = { properties: { tenantId, isDisabled: false, allowedTenants: [{ tenantId: '*', direction: { inbound: true, outbound: false } }] } };
    await up.isolation.put(tenantId, doc, fx.ctx());
    t.same(fx.clock.sleeps, [2000]);
    t.equal(control.calls({ route: 'bap.isolation.put' }).length, 2);
    t.match(control.getPolicy(tenantId), doc);
  });

  t.test('isolation: PUT is not resent after a 503 (it may have landed; the service decides)', async (t) => {
    control.addFault({ route: 'bap.isolation.put', kind: 'status', status: 503, after: true, times: 1 });
    const before = control.calls({ route: 'bap.isolation.put' }).length;
    const doc = { properties: { tenantId, isDisabled: false, allowedTenants: [{ tenantId: '*', direction: { inbound: false, outbound: true } }] } };
    const err = await up.isolation.put(tenantId, doc, fx.ctx()).catch((e) => e);
    t.type(err, UpstreamError);
    t.equal(err.status, 503);
    t.equal(control.calls({ route: 'bap.isolation.put' }).length - before, 1, 'one PUT');
    t.match(control.getPolicy(tenantId), doc, 'it had landed');
  });

  t.test('isolation: upstream 400 envelope surfaces its message', async (t) => {
    const bad = { properties: { tenantId, isDisabled: false, allowedTenants: [{ tenantId: 'invalid-tenant-id', direction: { inbound: true, outbound: false } }] } };
    const err = await up.isolation.put(tenantId, bad, fx.ctx()).catch((e) => e);
    t.type(err, UpstreamError);
    t.equal(err.status, 400);
    t.match(err.message, /Invalid tenant ID format/);
    t.equal(control.calls({ route: 'bap.isolation.put' }).length, 1, '400 is not retried');
  });

  t.test('an unregistered service principal gets the registration instructions', async (t) => {
    control.setOption('registeredClientIds', []);
    const err = await up.isolation.get(tenantId, fx.ctx()).catch((e) => e);
    t.type(err, UpstreamError);
    t.equal(err.status, 403);
    t.equal(err.code, 'NotRegisteredAsManagementApp');
    t.match(err.message, `pac admin application register --application-id ${fx.sim.relayApp.clientId}`);
    t.match(err.message, /adminApplications\/.+\?api-version=2020-10-01/);
    t.equal(control.calls({ route: 'bap.isolation.get' }).length, 1, 'not retried');
  });

  t.test('domain → tenant discovery, cached', async (t) => {
    t.equal(await up.tenantDiscovery.resolveDomain('fabrikam.com', fx.ctx()), FABRIKAM);
    t.equal(await up.tenantDiscovery.resolveDomain('Fabrikam.COM', fx.ctx()), FABRIKAM, 'case-insensitive');
    t.equal(control.calls({ route: 'entra.discovery' }).length, 1, 'second answer from the cache');
    t.equal(await up.tenantDiscovery.resolveDomain('nobody-here.example', fx.ctx()), null);
    t.equal(await up.tenantDiscovery.resolveDomain('not a domain/..', fx.ctx()), null, 'malformed → null without a call');
  });
});
