import t from 'tap';
import {
  canonicalJson,
  directionOf,
  isNeverConfigured,
  meaningOf,
  normalisePolicy,
  policyRevision,
  sameMeaning,
} from '../../src/isolation/policy.js';
import { isGuid, parseTenantIdentifier } from '../../src/isolation/tenant-id.js';
import { RelayError } from '../../src/errors.js';
import type { RawIsolationPolicy } from '../../src/upstream/types.js';

const OWN = '7C3D9F2A-0B1E-4C5D-8E6F-9A0B1C2D3E4F';
const A = '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3';

t.test('never configured: null, empty object, missing properties', async (t) => {
  for (const raw of [null, {} as RawIsolationPolicy, { id: 'x' } as RawIsolationPolicy]) {
    const p = normalisePolicy(raw, OWN);
    t.equal(p.tenantId, OWN.toLowerCase(), 'own tenant fills in, lower case');
    t.equal(p.enabled, false, 'a tenant that never configured isolation does not enforce it');
    t.equal(p.configured, false);
    t.same(p.rules, []);
    t.match(p.revision, /^[A-Za-z0-9_-]{16}$/);
  }
});

t.test(
  'never configured: the placeholder document (no tenantId, no rules) is not read as enforced',
  async (t) => {
    const placeholders: RawIsolationPolicy[] = [
      { properties: { isDisabled: false, allowedTenants: [] } }, // the terraform "never configured" fixture
      { properties: { isDisabled: false } },
      { properties: { tenantId: '', isDisabled: false, allowedTenants: [] } },
    ];
    for (const raw of placeholders) {
      const p = normalisePolicy(raw, OWN);
      t.equal(p.configured, false, `${JSON.stringify(raw)}: not configured`);
      t.equal(p.enabled, false, `${JSON.stringify(raw)}: not enforced`);
      t.equal(isNeverConfigured(raw), true);
    }
    // A stored choice stays one: with its tenant id, or with rules, the document is configured.
    const stored = normalisePolicy(
      { properties: { tenantId: OWN, isDisabled: false, allowedTenants: [] } },
      OWN,
    );
    t.match(stored, { configured: true, enabled: true }, 'enforced with no rules, as stored');
    const withRules = normalisePolicy(
      { properties: { isDisabled: false, allowedTenants: [{ tenantId: A, direction: { inbound: true } }] } },
      OWN,
    );
    t.match(withRules, { configured: true, enabled: true });
  },
);

t.test('the documented shape, missing tenantId, missing flags, neither flag, empty tenantId', async (t) => {
  const raw: RawIsolationPolicy = {
    properties: {
      isDisabled: false,
      allowedTenants: [
        {
          tenantId: A.toUpperCase(),
          direction: { inbound: true, outbound: false },
          tenantDisplayName: 'Fabrikam',
        },
        { tenantId: '*', direction: { outbound: true } },
        { tenantId: 'bbbbbbbb-1a3c-4e5f-9a7b-c8d9e0f1a2b3', direction: { inbound: false, outbound: false } },
        { tenantId: 'cccccccc-1a3c-4e5f-9a7b-c8d9e0f1a2b3' },
        { tenantId: '', direction: { inbound: true, outbound: true } },
        { direction: { inbound: true, outbound: true } },
      ],
    },
  };
  const p = normalisePolicy(raw, OWN);
  t.equal(p.tenantId, OWN.toLowerCase());
  t.equal(p.enabled, true);
  t.equal(p.configured, true);
  t.same(
    p.rules.map((r) => [r.tenantId, r.direction, r.inbound, r.outbound, r.tenantDisplayName]),
    [
      [A, 'Inbound', true, false, 'Fabrikam'],
      ['*', 'Outbound', false, true, null],
      ['bbbbbbbb-1a3c-4e5f-9a7b-c8d9e0f1a2b3', 'None', false, false, null],
      ['cccccccc-1a3c-4e5f-9a7b-c8d9e0f1a2b3', 'None', false, false, null],
    ],
    'GUIDs lower-cased, missing flags false, neither flag → None, empty tenant ids skipped',
  );
  t.equal(
    normalisePolicy({ properties: { isDisabled: true } }, OWN).enabled,
    false,
    'isDisabled true → not enabled',
  );
  t.equal(
    normalisePolicy({ properties: { tenantId: OWN } }, OWN).enabled,
    true,
    'a stored policy without isDisabled is enforced (Go zero value); with no tenantId and no rules it is the never-configured placeholder',
  );
});

t.test('revision is stable across key order and changes with content', async (t) => {
  const a: RawIsolationPolicy = {
    properties: { tenantId: OWN, isDisabled: false, allowedTenants: [] },
    extra: { z: 1, a: 2 },
  };
  const b: RawIsolationPolicy = {
    extra: { a: 2, z: 1 },
    properties: { allowedTenants: [], isDisabled: false, tenantId: OWN },
  };
  t.equal(policyRevision(a), policyRevision(b));
  t.equal(canonicalJson(a), canonicalJson(b));
  t.not(policyRevision(a), policyRevision({ ...a, properties: { ...a.properties, isDisabled: true } }));
  t.not(policyRevision(null), policyRevision({}));
});

t.test('meaning ignores display names and merges duplicate entries', async (t) => {
  const one = normalisePolicy(
    {
      properties: {
        allowedTenants: [
          { tenantId: A, direction: { inbound: true } },
          { tenantId: A.toUpperCase(), direction: { outbound: true } },
        ],
      },
    },
    OWN,
  );
  t.equal(meaningOf(one).rules.get(A), 'Both');
  const two = normalisePolicy(
    {
      properties: {
        allowedTenants: [
          { tenantId: A, tenantDisplayName: 'x', direction: { inbound: true, outbound: true } },
        ],
      },
    },
    OWN,
  );
  t.ok(sameMeaning(meaningOf(one), meaningOf(two)));
  t.notOk(sameMeaning(meaningOf(one), meaningOf({ ...two, enabled: false })));
  t.equal(directionOf(false, false), 'None');
});

t.test('tenant identifiers', async (t) => {
  t.same(parseTenantIdentifier(A.toUpperCase(), 'tenant'), { kind: 'guid', tenantId: A });
  t.same(parseTenantIdentifier(`{${A}}`, 'tenant'), { kind: 'guid', tenantId: A });
  t.same(parseTenantIdentifier(' * ', 'tenant'), { kind: 'all', tenantId: '*' });
  t.same(parseTenantIdentifier('Contoso.OnMicrosoft.com', 'tenant'), {
    kind: 'domain',
    domain: 'contoso.onmicrosoft.com',
  });
  for (const bad of [
    '',
    'contoso',
    'not a guid',
    '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b',
    '**',
    'a..b.com',
    '-x.com',
    'x'.repeat(300),
  ]) {
    try {
      parseTenantIdentifier(bad, 'tenant');
      t.fail(`accepted ${bad}`);
    } catch (err) {
      t.ok(
        err instanceof RelayError && err.statusCode === 400 && err.code === 'InvalidTenantIdentifier',
        `refused "${bad.slice(0, 20)}"`,
      );
      t.match((err as Error).message, /GUID.*\*.*domain/);
    }
  }
  t.ok(isGuid(A));
  t.notOk(isGuid('*'));
});
