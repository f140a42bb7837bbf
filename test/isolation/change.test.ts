import t, { type Test } from 'tap';
import {
  applyChange,
  changeIsPresent,
  checkReadBack,
  diffIsEmpty,
  diffPolicies,
  type IsolationChange,
  validateChange,
} from '../../src/isolation/change.js';
import { normalisePolicy } from '../../src/isolation/policy.js';
import { RelayError } from '../../src/errors.js';
import type { RawIsolationPolicy } from '../../src/upstream/types.js';

const OWN = '7c3d9f2a-0b1e-4c5d-8e6f-9a0b1c2d3e4f';
const A = '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3';
const B = 'bbbbbbbb-1a3c-4e5f-9a7b-c8d9e0f1a2b3';
const C = 'cccccccc-1a3c-4e5f-9a7b-c8d9e0f1a2b3';

const stored = (): RawIsolationPolicy => ({
  id: 'policy-1',
  unknownTop: { keep: true },
  properties: {
    tenantId: OWN,
    isDisabled: false,
    someNewFlag: 'kept',
    allowedTenants: [
      {
        tenantId: A.toUpperCase(),
        tenantDisplayName: 'Fabrikam',
        direction: { inbound: true, outbound: false, extra: 1 },
        note: 'x',
      },
      { tenantId: '', direction: { inbound: true, outbound: true } },
      { tenantId: '*', direction: { inbound: false, outbound: true } },
    ],
  },
});

function refused(t: Test, fn: () => unknown, code: string, message: RegExp) {
  try {
    fn();
    t.fail(`expected ${code}`);
  } catch (err) {
    t.ok(err instanceof RelayError, 'a RelayError');
    t.equal((err as RelayError).statusCode, 400);
    t.equal((err as RelayError).code, code);
    t.match((err as Error).message, message);
  }
}

t.test('upsert changes only the named rule and keeps every unknown field', async (t) => {
  const before = stored();
  const after = applyChange(before, { action: 'upsertRule', rule: { tenantId: A, direction: 'Both' } }, OWN);
  t.same(before, stored(), 'input not modified');
  t.same(after.unknownTop, { keep: true });
  t.equal(after.properties!.someNewFlag, 'kept');
  const entry = after.properties!.allowedTenants![0]!;
  t.same(entry, {
    tenantId: A.toUpperCase(),
    tenantDisplayName: 'Fabrikam',
    direction: { inbound: true, outbound: true, extra: 1 },
    note: 'x',
  });
  t.same(
    after.properties!.allowedTenants!.slice(1),
    stored().properties!.allowedTenants!.slice(1),
    'the others untouched',
  );

  const added = applyChange(
    before,
    { action: 'upsertRule', rule: { tenantId: B, direction: 'Outbound' } },
    OWN,
  );
  t.same(added.properties!.allowedTenants!.at(-1), {
    tenantId: B,
    direction: { inbound: false, outbound: true },
  });
  t.equal(added.properties!.allowedTenants!.length, 4);
});

t.test('upsert collapses a tenant stored twice into one entry', async (t) => {
  const raw: RawIsolationPolicy = {
    properties: {
      tenantId: OWN,
      allowedTenants: [
        { tenantId: A, direction: { inbound: true } },
        { tenantId: A.toUpperCase(), direction: { outbound: true } },
      ],
    },
  };
  const after = applyChange(raw, { action: 'upsertRule', rule: { tenantId: A, direction: 'Inbound' } }, OWN);
  t.same(after.properties!.allowedTenants, [{ tenantId: A, direction: { inbound: true, outbound: false } }]);
});

t.test('remove takes every copy of the tenant and nothing else', async (t) => {
  const after = applyChange(stored(), { action: 'removeRule', tenantId: A }, OWN);
  t.same(
    after.properties!.allowedTenants!.map((e) => e.tenantId),
    ['', '*'],
  );
  const none = applyChange(stored(), { action: 'removeRule', tenantId: B }, OWN);
  t.same(none.properties!.allowedTenants, stored().properties!.allowedTenants);
});

t.test('set enabled flips isDisabled only', async (t) => {
  const after = applyChange(stored(), { action: 'setEnabled', enabled: false }, OWN);
  t.equal(after.properties!.isDisabled, true);
  t.same({ ...after.properties, isDisabled: false }, stored().properties);
});

t.test('replace keeps entries it cannot show and the fields of entries it keeps', async (t) => {
  const after = applyChange(
    stored(),
    {
      action: 'replacePolicy',
      enabled: true,
      rules: [
        { tenantId: C, direction: 'Inbound' },
        { tenantId: A, direction: 'Outbound' },
      ],
    },
    OWN,
  );
  t.same(after.properties!.allowedTenants, [
    {
      tenantId: A.toUpperCase(),
      tenantDisplayName: 'Fabrikam',
      direction: { inbound: false, outbound: true, extra: 1 },
      note: 'x',
    },
    { tenantId: '', direction: { inbound: true, outbound: true } },
    { tenantId: C, direction: { inbound: true, outbound: false } },
  ]);
  t.equal(after.properties!.someNewFlag, 'kept');
});

t.test('a never-configured tenant gets a complete, not-enforced document', async (t) => {
  for (const raw of [
    null,
    {} as RawIsolationPolicy,
    { properties: { isDisabled: false } } as RawIsolationPolicy,
  ]) {
    const after = applyChange(
      raw,
      { action: 'upsertRule', rule: { tenantId: A, direction: 'Inbound' } },
      OWN,
    );
    t.equal(after.properties!.tenantId, OWN, 'tenantId filled in: upstream needs it in the PUT body');
    t.same(after.properties!.allowedTenants, [
      { tenantId: A, direction: { inbound: true, outbound: false } },
    ]);
    t.equal(
      normalisePolicy(after, OWN).enabled,
      normalisePolicy(raw, OWN).enabled,
      'enforcement unchanged by adding a rule',
    );
  }
});

t.test('the placeholder document starts the first write with isolation off, like a 404', async (t) => {
  const placeholder = (): RawIsolationPolicy => ({ properties: { isDisabled: false, allowedTenants: [] } });
  const after = applyChange(
    placeholder(),
    { action: 'upsertRule', rule: { tenantId: A, direction: 'Both' } },
    OWN,
  );
  t.same(
    after,
    applyChange(null, { action: 'upsertRule', rule: { tenantId: A, direction: 'Both' } }, OWN),
    'the same document as after a 404',
  );
  t.equal(after.properties!.isDisabled, true, 'adding a rule does not switch enforcement on');
  const removed = applyChange(placeholder(), { action: 'removeRule', tenantId: A }, OWN);
  t.equal(removed.properties!.isDisabled, true);
  const enabled = applyChange(placeholder(), { action: 'setEnabled', enabled: true }, OWN);
  t.equal(enabled.properties!.isDisabled, false, 'switching it on is still possible when asked');
  const kept = applyChange(
    {
      properties: { isDisabled: false, allowedTenants: [], futureField: 1 },
      extra: 'x',
    } as RawIsolationPolicy,
    { action: 'upsertRule', rule: { tenantId: A, direction: 'Both' } },
    OWN,
  );
  t.match(kept, { extra: 'x', properties: { futureField: 1, isDisabled: true } }, 'unknown fields kept');
  // A configured, enforced policy with no rules is a real choice and stays enforced.
  const real = applyChange(
    { properties: { tenantId: OWN, isDisabled: false, allowedTenants: [] } },
    { action: 'upsertRule', rule: { tenantId: A, direction: 'Both' } },
    OWN,
  );
  t.equal(real.properties!.isDisabled, false);
});

t.test('validation refuses own tenant, duplicates and missing directions with reasons', async (t) => {
  refused(
    t,
    () =>
      validateChange({ action: 'upsertRule', rule: { tenantId: OWN, direction: 'Both' } }, OWN.toUpperCase()),
    'OwnTenantRule',
    /own tenant/,
  );
  refused(
    t,
    () => validateChange({ action: 'removeRule', tenantId: OWN }, OWN),
    'OwnTenantRule',
    /own tenant/,
  );
  refused(
    t,
    () => validateChange({ action: 'upsertRule', rule: { tenantId: A, direction: 'None' as never } }, OWN),
    'RuleWithoutDirection',
    /grants nothing.*Inbound, Outbound or Both/,
  );
  refused(
    t,
    () =>
      validateChange({ action: 'upsertRule', rule: { tenantId: A, direction: 'Sideways' as never } }, OWN),
    'InvalidDirection',
    /Sideways/,
  );
  refused(
    t,
    () =>
      validateChange(
        {
          action: 'replacePolicy',
          enabled: true,
          rules: [
            { tenantId: A, direction: 'Inbound' },
            { tenantId: B, direction: 'Both' },
            { tenantId: A.toUpperCase(), direction: 'Outbound' },
          ],
        },
        OWN,
      ),
    'DuplicateTenantRule',
    /listed twice \(rules 0 and 2\)/,
  );
  refused(
    t,
    () =>
      validateChange(
        { action: 'replacePolicy', enabled: true, rules: [{ tenantId: OWN, direction: 'Inbound' }] },
        OWN,
      ),
    'OwnTenantRule',
    /own tenant/,
  );
  t.doesNotThrow(() =>
    validateChange(
      { action: 'replacePolicy', enabled: false, rules: [{ tenantId: '*', direction: 'Both' }] },
      OWN,
    ),
  );
});

t.test('diff names added, removed, changed and the enabled flag', async (t) => {
  const before = normalisePolicy(stored(), OWN);
  const after = normalisePolicy(
    applyChange(
      stored(),
      {
        action: 'replacePolicy',
        enabled: false,
        rules: [
          { tenantId: A, direction: 'Both' },
          { tenantId: B, direction: 'Inbound' },
        ],
      },
      OWN,
    ),
    OWN,
  );
  const d = diffPolicies(before, after);
  t.same(
    d.added.map((r) => [r.tenantId, r.direction]),
    [[B, 'Inbound']],
  );
  t.same(
    d.removed.map((r) => [r.tenantId, r.direction]),
    [['*', 'Outbound']],
  );
  t.same(d.changed, [{ tenantId: A, directionBefore: 'Inbound', directionAfter: 'Both' }]);
  t.equal(d.enabledBefore, true);
  t.equal(d.enabledAfter, false);
  t.notOk(diffIsEmpty(d));
  t.ok(diffIsEmpty(diffPolicies(before, before)));
});

t.test('a change that is already there changes nothing', async (t) => {
  const before = normalisePolicy(stored(), OWN);
  const cases: IsolationChange[] = [
    { action: 'upsertRule', rule: { tenantId: A, direction: 'Inbound' } },
    { action: 'removeRule', tenantId: B },
    { action: 'setEnabled', enabled: true },
    {
      action: 'replacePolicy',
      enabled: true,
      rules: [
        { tenantId: A, direction: 'Inbound' },
        { tenantId: '*', direction: 'Outbound' },
      ],
    },
  ];
  for (const c of cases) {
    t.ok(changeIsPresent(before, c), `${c.action} present`);
    t.ok(
      diffIsEmpty(diffPolicies(before, normalisePolicy(applyChange(stored(), c, OWN), OWN))),
      `${c.action} is a no-op`,
    );
  }
  t.notOk(changeIsPresent(before, { action: 'upsertRule', rule: { tenantId: A, direction: 'Both' } }));
});

t.test('read-back check: verified only when the change is there and nothing else moved', async (t) => {
  const change: IsolationChange = { action: 'upsertRule', rule: { tenantId: B, direction: 'Both' } };
  const written = applyChange(stored(), change, OWN);
  t.ok(checkReadBack(written, structuredClone(written), change, OWN).verified);
  const withNames = structuredClone(written);
  withNames.properties!.allowedTenants![3]!.tenantDisplayName = 'Filled in by upstream';
  t.ok(
    checkReadBack(written, withNames, change, OWN).verified,
    'display names upstream fills in do not count',
  );

  const extra = applyChange(
    written,
    { action: 'upsertRule', rule: { tenantId: C, direction: 'Inbound' } },
    OWN,
  );
  const r1 = checkReadBack(written, extra, change, OWN);
  t.notOk(r1.verified);
  t.ok(r1.changePresent);
  t.same(
    r1.outsideChanges.added.map((r) => r.tenantId),
    [C],
  );

  const undone = applyChange(written, { action: 'removeRule', tenantId: B }, OWN);
  const r2 = checkReadBack(written, undone, change, OWN);
  t.notOk(r2.verified);
  t.notOk(r2.changePresent);
  t.same(
    r2.outsideChanges.removed.map((r) => r.tenantId),
    [B],
  );
});
