import t from 'tap';
import { DEMO_ENVIRONMENTS, startSimulator } from '../../src/simulator/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { appToken, BAP_SCOPE, call, closeAll, PPAPI_SCOPE } from './helpers.js';

const sim = await startSimulator({ speed: 1e-9 });
t.teardown(() => closeAll(sim));
const token = await appToken(sim, BAP_SCOPE);
const BAP = '/providers/Microsoft.BusinessAppPlatform';
const policyPath = (tid = sim.tenantId, query = '') =>
  `/providers/PowerPlatform.Governance/v1/tenants/${tid}/tenantIsolationPolicy${query}`;
const FABRIKAM = '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3';

t.beforeEach(() => sim.control.reset());

t.test('tenant lookup and environments (with and without Dataverse)', async (t) => {
  const tenant = await call(sim, 'GET', `${BAP}/tenant?api-version=2021-04-01`, { token });
  t.equal(tenant.status, 200);
  t.same(tenant.json, {
    id: '/providers/Microsoft.BusinessAppPlatform/tenant',
    name: 'default',
    type: 'Microsoft.BusinessAppPlatform/tenant',
    tenantId: sim.tenantId,
    state: 'Enabled',
  });

  const envs = await call(sim, 'GET', `${BAP}/scopes/admin/environments?api-version=2023-06-01`, { token });
  t.equal(envs.status, 200);
  const byName = Object.fromEntries(
    envs.json.value.map((e: { properties: { displayName: string } }) => [e.properties.displayName, e]),
  );
  t.same(Object.keys(byName).sort(), ['Contoso (default)', 'Contoso Sales', 'Contoso Teams']);
  t.match(byName['Contoso Sales'].properties.linkedEnvironmentMetadata.instanceUrl, /^https:\/\//);
  t.equal(byName['Contoso Teams'].properties.linkedEnvironmentMetadata, null, 'no Dataverse: null, as captured');
  t.equal(byName['Contoso (default)'].properties.isDefault, true);
  t.match(byName['Contoso Sales'].id, /^\/providers\/Microsoft\.BusinessAppPlatform\/scopes\/admin\/environments\//);
  t.equal(byName['Contoso Sales'].type, 'Microsoft.BusinessAppPlatform/scopes/environments');
  t.equal(byName['Contoso Sales'].properties.linkedEnvironmentMetadata.instanceApiUrl, 'https://contososales.api.crm.dynamics.com');

  sim.control.setOption('environmentShape', 'legacy');
  t.teardown(() => sim.control.setOption('environmentShape', 'captured'));
  const legacy = await call(sim, 'GET', `${BAP}/scopes/admin/environments?api-version=2023-06-01`, { token });
  const legacyByName = Object.fromEntries(
    legacy.json.value.map((e: { properties: { displayName: string } }) => [e.properties.displayName, e]),
  );
  t.same(legacyByName['Contoso Teams'].properties.linkedEnvironmentMetadata, { instanceUrl: '' }, 'the older style on request');
  t.match(legacyByName['Contoso Sales'].id, /^\/providers\/Microsoft\.BusinessAppPlatform\/environments\//);
  t.match(legacyByName['Contoso Sales'].properties.linkedEnvironmentMetadata.instanceApiUrl, /\/api\/data\/v9\.2$/);
  sim.control.setOption('environmentShape', 'captured');

  const one = await call(
    sim,
    'GET',
    `${BAP}/scopes/admin/environments/${DEMO_ENVIRONMENTS.sales}?api-version=2023-06-01`,
    { token },
  );
  t.equal(one.json.name, DEMO_ENVIRONMENTS.sales);
  const missing = await call(
    sim,
    'GET',
    `${BAP}/scopes/admin/environments/00000000-0000-4000-8000-000000000000`,
    { token },
  );
  t.equal(missing.status, 404);
  t.equal(missing.json.error.code, 'EnvironmentNotFound');
});

t.test('audiences: PPAPI token refused, BAP audience with or without trailing slash accepted', async (t) => {
  const ppapi = await appToken(sim, PPAPI_SCOPE);
  const refused = await call(sim, 'GET', `${BAP}/tenant`, { token: ppapi });
  t.equal(refused.status, 401);
  t.match(refused.headers['www-authenticate'], /^Bearer .*invalid_token/);
  t.ok(refused.json.error.code, 'BAP envelope');
  const unknownKid = await sim.control.mintToken({
    audience: 'https://service.powerapps.com/',
    scp: 'x',
    kid: 'rotated-away',
  });
  t.equal(
    (await call(sim, 'GET', `${BAP}/tenant`, { token: unknownKid })).status,
    401,
    'a kid outside the JWKS is refused',
  );
  const none = await call(sim, 'GET', `${BAP}/tenant`);
  t.equal(none.status, 401);
  t.match(none.headers['www-authenticate'], /^Bearer /);
  for (const audience of ['https://service.powerapps.com', 'https://service.powerapps.com/']) {
    const tok = await sim.control.mintToken({
      audience,
      upn: 'admin@contoso.onmicrosoft.com',
      scp: 'user_impersonation',
    });
    t.equal((await call(sim, 'GET', `${BAP}/tenant`, { token: tok })).status, 200, audience);
  }
});

t.test(
  'an unregistered service principal gets the 403 "does not have permission to access the path"',
  async (t) => {
    sim.control.setOption('registeredClientIds', []);
    const res = await call(sim, 'GET', policyPath(), { token });
    t.equal(res.status, 403);
    t.match(res.json.error.message, /does not have permission to access the path/);
    const user = await sim.control.mintToken({
      audience: 'https://service.powerapps.com/',
      upn: 'admin@contoso.onmicrosoft.com',
      scp: 'user_impersonation',
    });
    t.equal(
      (await call(sim, 'GET', policyPath(), { token: user })).status,
      200,
      'delegated admins are not affected',
    );
  },
);

t.test('isolation GET returns the seeded policy, with or without api-version', async (t) => {
  const a = await call(sim, 'GET', policyPath(), { token });
  const b = await call(sim, 'GET', policyPath(sim.tenantId, '?api-version=2020-06-01'), { token });
  t.equal(a.status, 200);
  t.same(a.json, b.json);
  t.equal(a.json.properties.tenantId, sim.tenantId);
  t.equal(a.json.properties.isDisabled, false);
  const rules = a.json.properties.allowedTenants;
  t.equal(rules.length, 3);
  t.ok(rules.some((r: { tenantId: string }) => r.tenantId === '*'));
  t.ok(
    rules.some(
      (r: { direction: { inbound: boolean; outbound: boolean } }) =>
        !r.direction.inbound && !r.direction.outbound,
    ),
  );
  t.equal(a.headers['x-simulator-policy-revision'], '0');
});

t.test('PUT round trip keeps unknown fields and bumps the revision', async (t) => {
  const body = {
    properties: {
      tenantId: sim.tenantId,
      isDisabled: true,
      allowedTenants: [
        {
          tenantId: FABRIKAM,
          tenantDisplayName: 'Fabrikam',
          direction: { inbound: true, outbound: true, future: 1 },
          note: 'x',
        },
      ],
      futureSetting: { nested: true },
    },
    etagLike: 'kept',
  };
  const put = await call(sim, 'PUT', policyPath(), { token, body });
  t.equal(put.status, 200);
  t.same(put.json, body);
  t.equal(sim.control.policyRevision(), 1);
  const get = await call(sim, 'GET', policyPath(), { token });
  t.same(get.json, body);
  t.same(sim.control.getPolicy(), body);

  const empty = { properties: { tenantId: sim.tenantId, isDisabled: true, allowedTenants: [] } };
  t.equal((await call(sim, 'PUT', policyPath(), { token, body: empty })).status, 200);
  t.same(
    (await call(sim, 'GET', policyPath(), { token })).json.properties.allowedTenants,
    [],
    'remove all keeps []',
  );
  t.equal(sim.control.policyRevision(), 2);
});

t.test('validation: malformed tenant ids, domains, path ≠ token tenant', async (t) => {
  const bad = (tenantId: string) => ({
    properties: {
      tenantId: sim.tenantId,
      isDisabled: false,
      allowedTenants: [{ tenantId, direction: { inbound: true } }],
    },
  });
  const invalid = await call(sim, 'PUT', policyPath(), { token, body: bad('invalid-tenant-id') });
  t.equal(invalid.status, 400);
  t.equal(invalid.json.error.message, 'Invalid tenant ID format');
  t.same(invalid.json.error.details, [
    { code: 'ValidationError', message: 'The tenant ID must be a valid GUID' },
  ]);
  const domain = await call(sim, 'PUT', policyPath(), { token, body: bad('fabrikam.onmicrosoft.com') });
  t.equal(domain.status, 400);
  t.match(domain.json.error.details[0].message, /domain names/);
  t.equal(
    (await call(sim, 'PUT', policyPath(), { token, body: bad(FABRIKAM.toUpperCase()) })).status,
    200,
    'upper-case GUID accepted',
  );

  const badBodyTenant = await call(sim, 'PUT', policyPath(), {
    token,
    body: { properties: { tenantId: 'nope', isDisabled: false, allowedTenants: [] } },
  });
  t.equal(badBodyTenant.json.error.message, 'Invalid tenant ID format');
  const badPath = await call(sim, 'GET', policyPath('not-a-guid'), { token });
  t.equal(badPath.status, 400);
  t.equal(badPath.json.error.message, 'Invalid tenant ID format');
  const otherTenant = await call(sim, 'GET', policyPath(FABRIKAM), { token });
  t.equal(otherTenant.status, 403);
  const notJson = await call(sim, 'PUT', policyPath(), { token, body: '{oops' });
  t.equal(notJson.status, 400);
  t.ok(notJson.json.error, 'BAP envelope for a body that is not JSON');
});

t.test('never-configured tenant: 404, null, empty body, empty policy', async (t) => {
  sim.control.setPolicy(sim.tenantId, undefined);
  t.equal(sim.control.getPolicy(), undefined);
  const byDefault = await call(sim, 'GET', policyPath(), { token });
  t.equal(byDefault.status, 200, 'by default the captured 200 with an empty policy');
  t.same(byDefault.json, { properties: { isDisabled: false, allowedTenants: [] } });
  sim.control.setOption('neverConfiguredResponse', '404');
  const notFound = await call(sim, 'GET', policyPath(), { token });
  t.equal(notFound.status, 404);
  t.ok(notFound.json.error.code);
  sim.control.setOption('neverConfiguredResponse', 'null');
  const nul = await call(sim, 'GET', policyPath(), { token });
  t.equal(nul.status, 200);
  t.equal(nul.text, 'null');
  sim.control.setOption('neverConfiguredResponse', 'empty');
  const empty = await call(sim, 'GET', policyPath(), { token });
  t.equal(empty.status, 200);
  t.equal(empty.text, '');
  sim.control.setOption('neverConfiguredResponse', 'emptyPolicy');
  const fixture = await call(sim, 'GET', policyPath(), { token });
  t.same(fixture.json, { properties: { isDisabled: false, allowedTenants: [] } });
});

t.test('async PUT: 202 + Location, poll 202 with Retry-After 1, then 200, then GET shows it', async (t) => {
  sim.control.setOption('isolationPut', 'async');
  const body = { properties: { tenantId: sim.tenantId, isDisabled: false, allowedTenants: [] } };
  const put = await call(sim, 'PUT', policyPath(), { token, body });
  t.equal(put.status, 202);
  t.equal(put.headers['retry-after'], '1');
  const location = put.headers['location'] ?? '';
  t.match(location, new RegExp(`^${sim.origin.replace(/\./g, '\\.')}/providers/PowerPlatform\\.Governance/`));
  const first = await call(sim, 'GET', location, { token });
  t.equal(first.status, 202);
  t.equal(first.headers['retry-after'], '1');
  t.equal(sim.control.policyRevision(), 0, 'not applied yet');
  sim.control.advanceClock(2000);
  const second = await call(sim, 'GET', location, { token });
  t.equal(second.status, 200);
  t.same((await call(sim, 'GET', policyPath(), { token })).json, body);
  t.equal(sim.control.policyRevision(), 1);
});

t.test('async PUT variants: poll URL in Operation-Location, or no poll URL at all', async (t) => {
  const body = { properties: { tenantId: sim.tenantId, isDisabled: true, allowedTenants: [] } };
  sim.control.setOption('isolationPut', 'async-operation-location');
  const a = await call(sim, 'PUT', policyPath(), { token, body });
  t.equal(a.status, 202);
  t.notOk(a.headers['location']);
  t.equal((await call(sim, 'GET', a.headers['operation-location'] ?? '', { token })).status, 202);

  sim.control.setOption('isolationPut', 'async-no-location');
  const b = await call(sim, 'PUT', policyPath(), { token, body });
  t.equal(b.status, 202);
  t.notOk(b.headers['location'] || b.headers['operation-location']);
  sim.control.advanceClock(2000);
  t.same(sim.control.getPolicy(), body, 'the change still lands');
});

t.test('slow PUT delays the store (two writers race, last one wins)', async (t) => {
  // Long enough that the second writer lands inside the first one's delay even on a busy machine.
  sim.control.setOption('slowPutMs', 3000);
  const withRule = (tenantId: string) => ({
    properties: {
      tenantId: sim.tenantId,
      isDisabled: false,
      allowedTenants: [{ tenantId, direction: { inbound: true, outbound: false } }],
    },
  });
  const putsBefore = sim.control.calls({ route: 'bap.isolation.put' }).length;
  const first = call(sim, 'PUT', policyPath(), { token, body: withRule(FABRIKAM) });
  await waitFor(() => sim.control.calls({ route: 'bap.isolation.put' }).length > putsBefore, 'the first PUT to arrive');
  sim.control.setOption('slowPutMs', 0);
  const stored = () =>
    (sim.control.getPolicy() as { properties: { allowedTenants: { tenantId: string }[] } }).properties.allowedTenants.map((r) => r.tenantId);
  await call(sim, 'PUT', policyPath(), { token, body: withRule('*') });
  t.same(stored(), ['*'], 'the fast writer landed while the slow one waited');
  await first;
  t.same(stored(), [FABRIKAM], 'the slow writer landed last and the other rule is gone');
  t.equal(sim.control.policyRevision(), 2);
});
