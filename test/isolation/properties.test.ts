// Property-based checks of the one rule that matters most: a one-rule change moves that rule and
// nothing else — whatever odd shape the stored policy has.
import fc from 'fast-check';
import t from 'tap';
import {
  applyChange,
  diffIsEmpty,
  diffPolicies,
  type IsolationChange,
} from '../../src/isolation/change.js';
import { meaningOf, normalisePolicy } from '../../src/isolation/policy.js';
import type { RawIsolationPolicy } from '../../src/upstream/types.js';

const OWN = '7c3d9f2a-0b1e-4c5d-8e6f-9a0b1c2d3e4f';
const TENANTS = [
  '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3',
  '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b',
  'b1c2d3e4-f5a6-4b7c-9d8e-0f1a2b3c4d5e',
  'aaaaaaaa-1111-4222-8333-444444444444',
  '*',
];

const entry = fc.record(
  {
    tenantId: fc.oneof(
      fc.constantFrom(...TENANTS),
      fc.constantFrom(...TENANTS).map((s) => s.toUpperCase()),
      fc.constant(''),
    ),
    tenantDisplayName: fc.option(fc.string({ maxLength: 5 }), { nil: undefined }),
    direction: fc.option(fc.record({ inbound: fc.boolean(), outbound: fc.boolean() }, { requiredKeys: [] }), {
      nil: undefined,
    }),
    extra: fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined }),
  },
  { requiredKeys: [] },
);

const rawPolicy: fc.Arbitrary<RawIsolationPolicy | null> = fc.option(
  fc.record(
    {
      properties: fc.record(
        {
          tenantId: fc.constantFrom(OWN, OWN.toUpperCase(), ''),
          isDisabled: fc.boolean(),
          allowedTenants: fc.array(entry, { maxLength: 6 }),
          unknownProperty: fc.jsonValue({ maxDepth: 1 }),
        },
        { requiredKeys: [] },
      ),
      unknownTop: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<RawIsolationPolicy>,
  { nil: null },
);

const change: fc.Arbitrary<IsolationChange> = fc.oneof(
  fc.record({
    action: fc.constant('upsertRule' as const),
    rule: fc.record({
      tenantId: fc.constantFrom(...TENANTS),
      direction: fc.constantFrom('Inbound' as const, 'Outbound' as const, 'Both' as const),
    }),
  }),
  fc.record({ action: fc.constant('removeRule' as const), tenantId: fc.constantFrom(...TENANTS) }),
  fc.record({ action: fc.constant('setEnabled' as const), enabled: fc.boolean() }),
);

t.test('a one-rule change moves only what it names and keeps every unknown field', async (t) => {
  fc.assert(
    fc.property(rawPolicy, change, (raw, c) => {
      const frozen = structuredClone(raw);
      const after = applyChange(raw, c, OWN);
      if (JSON.stringify(raw) !== JSON.stringify(frozen)) return false; // input untouched
      const before = meaningOf(normalisePolicy(raw, OWN));
      const now = meaningOf(normalisePolicy(after, OWN));
      const named =
        c.action === 'upsertRule' ? c.rule.tenantId : c.action === 'removeRule' ? c.tenantId : undefined;
      for (const id of new Set([...before.rules.keys(), ...now.rules.keys()])) {
        if (id !== named && before.rules.get(id) !== now.rules.get(id)) return false;
      }
      if (c.action !== 'setEnabled' && before.enabled !== now.enabled) return false;
      if (c.action === 'upsertRule' && now.rules.get(c.rule.tenantId) !== c.rule.direction) return false;
      if (c.action === 'removeRule' && now.rules.has(c.tenantId)) return false;
      if (c.action === 'setEnabled' && now.enabled !== c.enabled) return false;
      // Unknown fields survive.
      if (
        raw?.unknownTop !== undefined &&
        JSON.stringify(after.unknownTop) !== JSON.stringify(raw.unknownTop)
      )
        return false;
      const up = raw?.properties?.unknownProperty;
      if (up !== undefined && JSON.stringify(after.properties?.unknownProperty) !== JSON.stringify(up))
        return false;
      // Entries the caller cannot see (empty tenant id) are never touched.
      const hidden = (p: RawIsolationPolicy | null) =>
        JSON.stringify((p?.properties?.allowedTenants ?? []).filter((e) => e?.tenantId === ''));
      if (hidden(raw) !== hidden(after)) return false;
      // The document upstream gets always names the policy's tenant.
      return typeof after.properties?.tenantId === 'string' && after.properties.tenantId !== '';
    }),
    { numRuns: 500 },
  );
  t.pass('500 random policies and changes');
});

t.test('applying the same change twice is a no-op the second time', async (t) => {
  fc.assert(
    fc.property(rawPolicy, change, (raw, c) => {
      const once = applyChange(raw, c, OWN);
      const twice = applyChange(once, c, OWN);
      return diffIsEmpty(diffPolicies(normalisePolicy(once, OWN), normalisePolicy(twice, OWN)));
    }),
    { numRuns: 300 },
  );
  t.pass('idempotent');
});
