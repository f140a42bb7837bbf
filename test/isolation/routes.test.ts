// The isolation operations over HTTP against the simulator: typed reads of every upstream shape,
// one-rule writes that keep everything else, dry runs and no-ops that never PUT, every validation
// case, compare-and-swap, confirmRemovals and domain resolution.
import t from 'tap';
import { type Stack, startStack } from '../helpers/stack.js';
import { FABRIKAM, NORTHWIND, OTHER, OWN, WOODGROVE, type Row } from './fixtures.js';

type Raw = {
  properties: {
    tenantId?: string;
    isDisabled?: boolean;
    allowedTenants: Array<{
      tenantId?: string;
      tenantDisplayName?: string;
      direction?: { inbound?: boolean; outbound?: boolean };
    }>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
};

let stack: Stack;
t.before(async () => {
  stack = await startStack();
});
t.teardown(() => stack.close());
t.beforeEach(() => stack.sim.control.reset());

const puts = () => stack.sim.control.calls({ route: 'bap.isolation.put' }).length;
const stored = () => stack.sim.control.getPolicy() as Raw;
const storedRules = () =>
  Object.fromEntries(
    stored().properties.allowedTenants.map((e) => [
      String(e.tenantId).toLowerCase(),
      `${!!e.direction?.inbound}/${!!e.direction?.outbound}`,
    ]),
  );

t.test('GetIsolationPolicy: the seeded policy, typed, with None for a rule with neither flag', async (t) => {
  const res = await stack.request('GET', '/v1/tenant-isolation');
  t.equal(res.status, 200);
  t.equal(res.body.tenantId, OWN);
  t.equal(res.body.enabled, true);
  t.equal(res.body.configured, true);
  t.same(
    res.body.rules.map((r: Row) => [r.tenantId, r.direction]),
    [
      [FABRIKAM, 'Inbound'],
      [NORTHWIND, 'None'],
      ['*', 'Outbound'],
    ],
  );
  t.match(res.body.revision, /^[\w-]{16}$/);
  t.ok(res.headers['x-correlation-id']);
});

t.test('GetIsolationPolicy: a never-configured tenant in every wire shape', async (t) => {
  for (const shape of ['404', 'null', 'empty', 'emptyPolicy'] as const) {
    stack.sim.control.setPolicy(OWN, undefined);
    stack.sim.control.setOption('neverConfiguredResponse', shape);
    const res = await stack.request('GET', '/v1/tenant-isolation');
    t.equal(res.status, 200, `${shape}: 200`);
    t.equal(res.body.tenantId, OWN, `${shape}: own tenant filled in`);
    t.same(res.body.rules, [], `${shape}: no rules`);
    t.equal(res.body.configured, false, `${shape}: not configured`);
    t.equal(res.body.enabled, false, `${shape}: not enforced`);
  }
  // A first rule on a never-configured tenant stores a complete document and does not switch isolation on.
  stack.sim.control.setPolicy(OWN, undefined);
  stack.sim.control.setOption('neverConfiguredResponse', '404');
  const res = await stack.request('PUT', `/v1/tenant-isolation/rules/${FABRIKAM}`, {
    body: { direction: 'Both' },
  });
  t.equal(res.status, 200);
  t.equal(res.body.verified, true);
  t.equal(res.body.policy.enabled, false);
  t.same(stored().properties.tenantId, OWN);
  t.same(storedRules(), { [FABRIKAM]: 'true/true' });
});

t.test(
  'a first rule on the placeholder policy (no tenantId, no rules) does not switch isolation on',
  async (t) => {
    stack.sim.control.setPolicy(OWN, undefined);
    stack.sim.control.setOption('neverConfiguredResponse', 'emptyPolicy');
    const res = await stack.request('PUT', `/v1/tenant-isolation/rules/${FABRIKAM}`, {
      body: { direction: 'Both' },
    });
    stack.sim.control.setOption('neverConfiguredResponse', '404');
    t.equal(res.status, 200);
    t.equal(res.body.verified, true);
    t.equal(res.body.policy.enabled, false, 'answer: not enforced');
    t.equal(res.body.diff.enabledBefore, false);
    t.equal(res.body.diff.enabledAfter, false, 'the diff shows no switch');
    t.equal(stored().properties.isDisabled, true, 'stored with isolation off');
    t.equal(stored().properties.tenantId, OWN);
    t.same(storedRules(), { [FABRIKAM]: 'true/true' });
  },
);

t.test('UpsertIsolationRule adds one rule, keeps the others and every unknown field', async (t) => {
  const seeded = stored();
  stack.sim.control.setPolicy(OWN, {
    ...seeded,
    etagLike: 'keep-me',
    properties: { ...seeded.properties, futureFlag: { x: 1 } },
  });
  const before = await stack.request('GET', '/v1/tenant-isolation');
  const res = await stack.request('PUT', `/v1/tenant-isolation/rules/${WOODGROVE.toUpperCase()}`, {
    body: { direction: 'Outbound', reason: 'partner onboarding' },
  });
  t.equal(res.status, 200);
  t.match(res.body, {
    applied: true,
    dryRun: false,
    changed: true,
    verified: true,
    attempts: 1,
    concurrentChanges: null,
  });
  t.same(
    res.body.diff.added.map((r: Row) => [r.tenantId, r.direction]),
    [[WOODGROVE, 'Outbound']],
  );
  t.same(res.body.diff.removed, []);
  t.equal(res.body.revisionBefore, before.body.revision);
  t.not(res.body.revisionAfter, res.body.revisionBefore);
  t.equal(res.body.policy.revision, res.body.revisionAfter);
  const now = stored();
  t.equal(now.etagLike, 'keep-me', 'unknown top-level field kept');
  t.same(now.properties.futureFlag, { x: 1 }, 'unknown property kept');
  t.same(storedRules(), {
    [FABRIKAM]: 'true/false',
    [NORTHWIND]: 'false/false',
    '*': 'false/true',
    [WOODGROVE]: 'false/true',
  });
  t.equal(now.properties.allowedTenants[0]!.tenantDisplayName, 'Fabrikam', 'other entries untouched');

  const changed = await stack.request('PUT', `/v1/tenant-isolation/rules/${FABRIKAM}`, {
    body: { direction: 'Both' },
  });
  t.same(changed.body.diff.changed, [
    { tenantId: FABRIKAM, directionBefore: 'Inbound', directionAfter: 'Both' },
  ]);
  t.same(storedRules()[FABRIKAM], 'true/true');
});

t.test('RemoveIsolationRule and SetIsolationEnabled change only what they name', async (t) => {
  const res = await stack.request('DELETE', `/v1/tenant-isolation/rules/${FABRIKAM}?reason=offboarded`);
  t.equal(res.status, 200);
  t.match(res.body, { applied: true, verified: true });
  t.same(
    res.body.diff.removed.map((r: Row) => r.tenantId),
    [FABRIKAM],
  );
  t.same(storedRules(), { [NORTHWIND]: 'false/false', '*': 'false/true' });

  const star = await stack.request('DELETE', '/v1/tenant-isolation/rules/*');
  t.equal(star.status, 200);
  t.same(storedRules(), { [NORTHWIND]: 'false/false' });

  const off = await stack.request('PUT', '/v1/tenant-isolation/enabled', { body: { enabled: false } });
  t.equal(off.status, 200);
  t.match(off.body.diff, { enabledBefore: true, enabledAfter: false, added: [], removed: [], changed: [] });
  t.equal(stored().properties.isDisabled, true);
  t.same(storedRules(), { [NORTHWIND]: 'false/false' }, 'rules unchanged by enable/disable');
});

t.test('dry runs and no-op writes never PUT', async (t) => {
  const before = stored();
  const base = puts();
  const dry = [
    await stack.request('PUT', `/v1/tenant-isolation/rules/${WOODGROVE}`, {
      body: { direction: 'Both', dryRun: true },
    }),
    await stack.request('DELETE', `/v1/tenant-isolation/rules/${FABRIKAM}?dryRun=true`),
    await stack.request('PUT', '/v1/tenant-isolation/enabled', { body: { enabled: false, dryRun: true } }),
    await stack.request('PUT', '/v1/tenant-isolation', { body: { enabled: true, rules: [], dryRun: true } }),
  ];
  for (const r of dry) {
    t.equal(r.status, 200);
    t.match(r.body, { applied: false, dryRun: true, changed: true, verified: false });
    t.type(r.body.changeId, 'string');
  }
  t.same(
    dry[0]!.body.diff.added.map((r: Row) => r.tenantId),
    [WOODGROVE],
    'the dry run shows the diff',
  );
  t.ok(
    dry[0]!.body.policy.rules.some((r: Row) => r.tenantId === WOODGROVE),
    'and the policy as it would be',
  );
  t.same(
    dry[3]!.body.diff.removed.map((r: Row) => r.tenantId).sort(),
    [FABRIKAM, NORTHWIND, '*'].sort(),
    'replace dry run lists removals without confirmRemovals',
  );

  const noop = [
    await stack.request('PUT', `/v1/tenant-isolation/rules/${FABRIKAM}`, { body: { direction: 'Inbound' } }),
    await stack.request('DELETE', `/v1/tenant-isolation/rules/${WOODGROVE}`),
    await stack.request('PUT', '/v1/tenant-isolation/enabled', { body: { enabled: true } }),
  ];
  for (const r of noop) {
    t.equal(r.status, 200);
    t.match(r.body, { applied: false, dryRun: false, changed: false, verified: true });
    t.equal(r.body.revisionBefore, r.body.revisionAfter);
  }
  t.equal(puts(), base, 'no PUT reached upstream');
  t.same(stored(), before, 'stored policy untouched');
});

t.test('every validation case answers 400 with a message that says why', async (t) => {
  const base = puts();
  const cases: Array<[string, string, unknown, RegExp, string]> = [
    [
      'PUT',
      '/v1/tenant-isolation/rules/not-a-tenant',
      { direction: 'Both' },
      /not a tenant identifier.*GUID.*\*.*domain/,
      'InvalidTenantIdentifier',
    ],
    [
      'PUT',
      `/v1/tenant-isolation/rules/${OWN.toUpperCase()}`,
      { direction: 'Both' },
      /own tenant/,
      'OwnTenantRule',
    ],
    ['DELETE', `/v1/tenant-isolation/rules/${OWN}`, undefined, /own tenant/, 'OwnTenantRule'],
    [
      'PUT',
      '/v1/tenant-isolation/rules/contoso.onmicrosoft.com',
      { direction: 'Inbound' },
      /own tenant/,
      'OwnTenantRule',
    ],
    [
      'PUT',
      `/v1/tenant-isolation/rules/${OTHER}`,
      { direction: 'None' },
      /Inbound, Outbound or Both/,
      'InvalidRequest',
    ],
    [
      'PUT',
      `/v1/tenant-isolation/rules/${OTHER}`,
      { direction: 'Sideways' },
      /Inbound, Outbound or Both/,
      'InvalidRequest',
    ],
    ['PUT', `/v1/tenant-isolation/rules/${OTHER}`, {}, /direction/, 'InvalidRequest'],
    [
      'PUT',
      '/v1/tenant-isolation/rules/nobody.example.com',
      { direction: 'Both' },
      /does not know the domain "nobody\.example\.com"/,
      'UnknownTenantDomain',
    ],
    [
      'PUT',
      '/v1/tenant-isolation',
      {
        enabled: true,
        rules: [
          { tenant: FABRIKAM, direction: 'Both' },
          { tenant: FABRIKAM.toUpperCase(), direction: 'Inbound' },
        ],
        confirmRemovals: true,
      },
      /listed twice/,
      'DuplicateTenantRule',
    ],
    [
      'PUT',
      '/v1/tenant-isolation',
      {
        enabled: true,
        rules: [
          { tenant: FABRIKAM, direction: 'Both' },
          { tenant: 'fabrikam.onmicrosoft.com', direction: 'Inbound' },
        ],
        confirmRemovals: true,
      },
      /listed twice/,
      'DuplicateTenantRule',
    ],
    [
      'PUT',
      '/v1/tenant-isolation',
      { enabled: true, rules: [{ tenant: OWN, direction: 'Both' }], confirmRemovals: true },
      /own tenant/,
      'OwnTenantRule',
    ],
    [
      'PUT',
      '/v1/tenant-isolation',
      { enabled: true, rules: [{ tenant: OTHER, direction: 'None' }] },
      /Inbound, Outbound or Both/,
      'InvalidRequest',
    ],
    ['PUT', '/v1/tenant-isolation', { rules: [] }, /enabled/, 'InvalidRequest'],
    ['PUT', '/v1/tenant-isolation/enabled', { enabled: 'yes' }, /enabled/, 'InvalidRequest'],
    ['GET', '/v1/tenant-isolation/changes?pageSize=0', undefined, /pageSize/, 'InvalidRequest'],
    ['GET', '/v1/tenant-isolation/changes?from=yesterday', undefined, /date and time/, 'InvalidRequest'],
    [
      'GET',
      '/v1/tenant-isolation/changes?continuationToken=bogus',
      undefined,
      /continuation token/,
      'InvalidContinuationToken',
    ],
  ];
  for (const [method, path, body, message, code] of cases) {
    const res = await stack.request(method, path, body === undefined ? {} : { body });
    t.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body) ?? ''} → 400`);
    t.equal(res.body?.error?.code, code, `code ${code}`);
    t.match(res.body?.error?.message, message, res.body?.error?.message);
  }
  t.equal(puts(), base, 'nothing refused reached upstream');
});

t.test('ifRevision: compare-and-swap answers 412 when the policy moved', async (t) => {
  const read = await stack.request('GET', '/v1/tenant-isolation');
  const ok = await stack.request('PUT', `/v1/tenant-isolation/rules/${WOODGROVE}`, {
    body: { direction: 'Both', ifRevision: read.body.revision },
  });
  t.equal(ok.status, 200, 'the current revision is accepted');
  const base = puts();
  const stale = await stack.request('PUT', `/v1/tenant-isolation/rules/${OTHER}`, {
    body: { direction: 'Both', ifRevision: read.body.revision },
  });
  t.equal(stale.status, 412);
  t.equal(stale.body.error.code, 'RevisionMismatch');
  t.match(stale.body.error.message, new RegExp(`now at ${ok.body.revisionAfter}`));
  const staleDelete = await stack.request(
    'DELETE',
    `/v1/tenant-isolation/rules/${FABRIKAM}?ifRevision=${read.body.revision}`,
  );
  t.equal(staleDelete.status, 412);
  t.equal(puts(), base, 'nothing written on a mismatch');
  t.notOk(storedRules()[OTHER]);
});

t.test('ReplaceIsolationPolicy: removals need confirmRemovals, nothing changes without it', async (t) => {
  const before = stored();
  const base = puts();
  const body = {
    enabled: true,
    rules: [
      { tenant: FABRIKAM, direction: 'Both' },
      { tenant: 'woodgrove.onmicrosoft.com', direction: 'Inbound' },
    ],
  };
  const refused = await stack.request('PUT', '/v1/tenant-isolation', { body });
  t.equal(refused.status, 409);
  t.equal(refused.body.error.code, 'RemovalsNotConfirmed');
  t.match(refused.body.error.message, /remove 2 existing rule\(s\).*confirmRemovals: true/);
  t.same(refused.body.error.details.wouldRemove.map((r: Row) => r.tenantId).sort(), [NORTHWIND, '*'].sort());
  t.equal(puts(), base);
  t.same(stored(), before);

  const done = await stack.request('PUT', '/v1/tenant-isolation', {
    body: { ...body, confirmRemovals: true, reason: 'annual review' },
  });
  t.equal(done.status, 200);
  t.match(done.body, { applied: true, verified: true });
  t.same(
    storedRules(),
    { [FABRIKAM]: 'true/true', [WOODGROVE]: 'true/false' },
    'the domain was resolved to its tenant id',
  );
  t.same(done.body.diff.changed, [
    { tenantId: FABRIKAM, directionBefore: 'Inbound', directionAfter: 'Both' },
  ]);

  // Adding rules only needs no confirmation.
  const grow = await stack.request('PUT', '/v1/tenant-isolation', {
    body: {
      enabled: true,
      rules: [
        { tenant: FABRIKAM, direction: 'Both' },
        { tenant: WOODGROVE, direction: 'Inbound' },
        { tenant: '*', direction: 'Inbound' },
      ],
    },
  });
  t.equal(grow.status, 200);
  t.same(
    grow.body.diff.added.map((r: Row) => r.tenantId),
    ['*'],
  );
});

t.test('domains resolve through Entra discovery, once per domain', async (t) => {
  const discovery = () => stack.sim.control.calls({ route: 'entra.discovery' }).length;
  const first = discovery();
  const a = await stack.request('PUT', '/v1/tenant-isolation/rules/Northwind.OnMicrosoft.com', {
    body: { direction: 'Both' },
  });
  t.equal(a.status, 200);
  t.same(storedRules()[NORTHWIND], 'true/true');
  const b = await stack.request('DELETE', '/v1/tenant-isolation/rules/northwind.onmicrosoft.com');
  t.equal(b.status, 200);
  t.notOk(storedRules()[NORTHWIND]);
  t.ok(discovery() - first <= 1, 'the second use came from the cache');
});

t.test('async PUT (202 + Location) is followed and verified', async (t) => {
  stack.sim.control.setOption('isolationPut', 'async');
  const res = await stack.request('PUT', `/v1/tenant-isolation/rules/${WOODGROVE}`, {
    body: { direction: 'Inbound' },
  });
  t.equal(res.status, 200);
  t.match(res.body, { applied: true, verified: true });
  t.same(storedRules()[WOODGROVE], 'true/false');
});
