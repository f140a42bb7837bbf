// A policy document with its rules at the top level instead of under `properties` (a shape one
// terraform capture has): its rules are read, and a write stores the `properties` shape upstream's
// PUT takes, with the rules it had and the top-level `id` kept.
import t from 'tap';
import { wrapFlatPolicy } from '../../src/upstream/isolation.js';
import { startStack } from '../helpers/stack.js';
import { FABRIKAM, OWN, WOODGROVE } from './fixtures.js';

const flatDocument = () => ({
  id: `/providers/PowerPlatform.Governance/v1/tenants/${OWN}/tenantIsolationPolicy`,
  tenantId: OWN,
  isDisabled: false,
  allowedTenants: [{ tenantId: FABRIKAM, direction: { inbound: true, outbound: false } }],
});

t.test('wrapFlatPolicy moves the policy fields under properties and leaves the rest', async (t) => {
  t.same(wrapFlatPolicy(flatDocument()), {
    id: `/providers/PowerPlatform.Governance/v1/tenants/${OWN}/tenantIsolationPolicy`,
    properties: { tenantId: OWN, isDisabled: false, allowedTenants: [{ tenantId: FABRIKAM, direction: { inbound: true, outbound: false } }] },
  });
  const wrapped = { properties: { tenantId: OWN, allowedTenants: [] }, isDisabled: true };
  t.equal(wrapFlatPolicy(wrapped), wrapped, 'a document with properties is left as it is');
  const other = { something: 1 };
  t.equal(wrapFlatPolicy(other), other, 'a document without policy fields too');
});

t.test('over HTTP: the flat rule is visible and a write keeps it in the shape upstream takes', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  stack.sim.control.setPolicy(OWN, flatDocument());

  const read = await stack.request('GET', '/v1/tenant-isolation');
  t.equal(read.status, 200);
  t.match(read.body, { tenantId: OWN, enabled: true, configured: true });
  t.match(read.body.rules, [{ tenantId: FABRIKAM, direction: 'Inbound' }], 'the rule is not invisible');

  const write = await stack.request('PUT', `/v1/tenant-isolation/rules/${WOODGROVE}`, { body: { direction: 'Outbound' } });
  t.equal(write.status, 200, JSON.stringify(write.body));
  t.equal(write.body.verified, true);
  t.same(write.body.diff.removed, [], 'the flat rule is not dropped');
  const stored = stack.sim.control.getPolicy() as Record<string, unknown> & { properties: { allowedTenants: Array<{ tenantId: string }> } };
  t.same(
    stored.properties.allowedTenants.map((r) => r.tenantId),
    [FABRIKAM, WOODGROVE],
    'stored under properties with both rules',
  );
  t.notOk('allowedTenants' in stored, 'no rules left at the top level');
  t.equal(stored.id, flatDocument().id, 'the top-level id is kept');
});
