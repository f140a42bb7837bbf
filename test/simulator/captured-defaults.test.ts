// The simulator's default answers, compared field by field with the shapes the real services send
// (test/fixtures/upstream-shapes): the same field names, nesting, types, and null versus absent,
// the same statuses and headers. Fields of a capture the simulator leaves out are listed below with
// the reason; anything else that differs fails.
import t, { type Test } from 'tap';
import { DEMO_ENVIRONMENTS, startSimulator } from '../../src/simulator/index.js';
import { type ShapeName, shape } from '../fixtures/upstream-shapes/shapes.js';
import { appToken, BAP_SCOPE, call, closeAll, PPAPI_SCOPE } from './helpers.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every difference in field names and value kinds between a captured shape and an answer. */
function differences(expected: Json, actual: Json, path = '$', notSimulated: ReadonlySet<string> = new Set()): string[] {
  const kind = (v: Json) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(expected) !== kind(actual)) return [`${path}: ${kind(expected)} in the capture, ${kind(actual)} here`];
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length === 0 || actual.length === 0) return [];
    return differences(expected[0]!, actual[0]!, `${path}[0]`, notSimulated);
  }
  if (kind(expected) !== 'object') return [];
  const e = expected as Record<string, Json>;
  const a = actual as Record<string, Json>;
  const out: string[] = [];
  for (const k of Object.keys(e)) {
    const at = `${path}.${k}`;
    if (!(k in a)) {
      if (!notSimulated.has(at)) out.push(`${at}: in the capture, absent here`);
    } else out.push(...differences(e[k]!, a[k]!, at, notSimulated));
  }
  for (const k of Object.keys(a)) if (!(k in e)) out.push(`${path}.${k}: absent in the capture, sent here`);
  return out;
}

// Environment details the relay never reads (it reads name, displayName, location, environmentSku
// and linkedEnvironmentMetadata.instanceUrl): billing, capacity, endpoints and governance are not
// simulated.
const ENVIRONMENT_NOT_SIMULATED = new Set(
  [
    'createdBy',
    'billingPolicy',
    'lastModifiedTime',
    'creationType',
    'capacity',
    'addons',
    'clientUris',
    'runtimeEndpoints',
    'databaseType',
    'trialScenarioType',
    'notificationMetadata',
    'retentionPeriod',
    'updateCadence',
    'retentionDetails',
    'protectionStatus',
    'cluster',
    'connectedGroups',
    'lifecycleOperationsEnforcement',
    'governanceConfiguration',
  ].map((k) => `$.properties.${k}`),
);

const sim = await startSimulator({ speed: 1e-9 });
t.teardown(() => closeAll(sim));
const ppapi = await appToken(sim, PPAPI_SCOPE);
const bap = await appToken(sim, BAP_SCOPE);
const SALES = DEMO_ENVIRONMENTS.sales;
t.beforeEach(() => sim.control.reset());

const same = (t: Test, name: ShapeName, actual: unknown, notSimulated?: ReadonlySet<string>) =>
  t.same(differences(shape(name), actual as Json, '$', notSimulated), [], `field by field like ${name}`);

const install = (name: string) =>
  call(sim, 'POST', `/appmanagement/environments/${SALES}/applicationPackages/${name}/install?api-version=2024-10-01`, { token: ppapi });

t.test('install: 202, Operation-Location with api-version=1, no body', async (t) => {
  const res = await install('msdyn_ContosoSurveysAnchor');
  t.equal(res.status, 202);
  t.match(res.headers['operation-location'], new RegExp(`^${sim.origin}/appmanagement/environments/${SALES}/operations/[0-9a-f-]{36}\\?api-version=1$`));
  t.equal(res.text, '');
});

t.test('the install body, when asked for, is the InstancePackage shape with "" texts', async (t) => {
  sim.control.setOption('installResponse', 'body-200');
  const res = await install('ContosoExpenseApprovals');
  t.equal(res.status, 200);
  same(t, 'ppapi-install-response', res.json);
});

t.test('operation status: NotStarted with nulls, Succeeded without an error key', async (t) => {
  const started = await install('msdyn_ContosoSurveysAnchor');
  const url = String(started.headers['operation-location']);
  same(t, 'ppapi-operation-notstarted', (await call(sim, 'GET', url, { token: ppapi })).json);
  sim.control.advanceClock(60_000);
  const done = await call(sim, 'GET', url, { token: ppapi });
  t.equal(done.json.status, 'Succeeded');
  same(t, 'ppapi-operation-succeeded', done.json);
});

t.test('package list entries', async (t) => {
  const res = await call(sim, 'GET', `/appmanagement/environments/${SALES}/applicationPackages?api-version=2024-10-01&appInstallState=NotInstalled`, { token: ppapi });
  t.equal(res.status, 200);
  same(t, 'ppapi-environment-packages', { value: res.json.value });
});

t.test('tenant, environments with and without Dataverse, an unknown environment', async (t) => {
  const tenant = await call(sim, 'GET', '/providers/Microsoft.BusinessAppPlatform/tenant?api-version=2021-04-01', { token: bap });
  same(t, 'bap-tenant', tenant.json);
  const envs = await call(sim, 'GET', '/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2023-06-01', { token: bap });
  const byId = Object.fromEntries((envs.json.value as Array<{ name: string }>).map((e) => [e.name, e]));
  const withDataverse = byId[SALES] as Json;
  const without = byId[DEMO_ENVIRONMENTS.teams] as Json;
  same(t, 'bap-environment-with-dataverse', withDataverse, ENVIRONMENT_NOT_SIMULATED);
  same(t, 'bap-environment-no-dataverse', without, ENVIRONMENT_NOT_SIMULATED);
  const one = await call(sim, 'GET', `/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/${SALES}?api-version=2023-06-01`, { token: bap });
  same(t, 'bap-environment-with-dataverse', one.json, ENVIRONMENT_NOT_SIMULATED);
  t.equal(one.json.id, `/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/${SALES}`);
  const gone = await call(sim, 'GET', '/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/0d0e0f10-1112-4314-9516-171819202122?api-version=2023-06-01', { token: bap });
  t.equal(gone.status, 404);
  same(t, 'bap-environment-404', gone.json);
});

t.test('isolation: never configured, stored policy, PUT 400', async (t) => {
  const path = `/providers/PowerPlatform.Governance/v1/tenants/${sim.tenantId}/tenantIsolationPolicy`;
  sim.control.setPolicy(sim.tenantId, undefined);
  const never = await call(sim, 'GET', path, { token: bap });
  t.equal(never.status, 200);
  t.same(never.json, shape('bap-isolation-never-configured'), 'exactly the capture');
  const put = await call(sim, 'PUT', path, { token: bap, body: shape('bap-isolation-policy') });
  t.equal(put.status, 200);
  same(t, 'bap-isolation-policy', put.json);
  same(t, 'bap-isolation-policy', (await call(sim, 'GET', path, { token: bap })).json);
  const bad = await call(sim, 'PUT', path, { token: bap, body: { properties: { tenantId: sim.tenantId, allowedTenants: [{ tenantId: 'invalid-tenant-id', direction: { inbound: true } }] } } });
  t.equal(bad.status, 400);
  same(t, 'bap-isolation-put-400', { error: { code: bad.json.error.code, message: bad.json.error.message, details: bad.json.error.details } });
  t.same(bad.json.error.details, shape('bap-isolation-put-400').error.details, 'the same message and details');
});

t.test('errors: PPAPI 503, BAP 403 for an unregistered service principal, Entra 401 invalid_client', async (t) => {
  sim.control.addFault({ route: 'ppapi.listPackages', kind: 'status', status: 503 });
  const unavailable = await call(sim, 'GET', `/appmanagement/environments/${SALES}/applicationPackages?api-version=1`, { token: ppapi });
  t.equal(unavailable.status, 503);
  t.same(unavailable.json, shape('ppapi-503'), 'exactly the body users saw');
  t.match(unavailable.headers['x-ms-correlation-id'], /^[0-9a-f-]{36}$/);

  sim.control.setOption('registeredClientIds', []);
  const refused = await call(sim, 'GET', '/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2023-06-01', { token: bap });
  t.equal(refused.status, 403);
  same(t, 'bap-403-not-registered', { error: { code: refused.json.error.code, message: refused.json.error.message } });
  t.match(refused.json.error.message, /does not have permission to access the path/);

  const denied = await call(sim, 'POST', `/${sim.tenantId}/oauth2/v2.0/token`, {
    form: { grant_type: 'client_credentials', client_id: sim.relayApp.clientId, client_secret: 'revoked', scope: PPAPI_SCOPE },
  });
  t.equal(denied.status, 401);
  same(t, 'entra-401-invalid-client', denied.json);
  t.match(denied.json.error_description, /^AADSTS7000215: .+\r\nTrace ID: .+\r\nCorrelation ID: .+\r\nTimestamp: .+$/);
});
