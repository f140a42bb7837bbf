// Every relay operation, run in live mode against upstream answers in the shapes the real services
// send (test/fixtures/upstream-shapes): the simulator serves each shape, replayed exactly where its
// content matters and from its own state where a write must land (its defaults have these shapes).
import t from 'tap';
import type { FaultSpec, RouteName } from '../../src/simulator/types.js';
import { DEMO_ENVIRONMENTS, DEMO_TENANTS } from '../../src/simulator/seed.js';
import {
  installAnswerHeaders,
  SHAPE_503_CORRELATION_ID,
  SHAPE_OPERATION_ID,
  type ShapeName,
  shape,
} from '../fixtures/upstream-shapes/shapes.js';
import { startStack } from '../helpers/stack.js';
import { followLikeEngine } from '../installs/packages-engine.js';

const SALES = DEMO_ENVIRONMENTS.sales;
const TEAMS = DEMO_ENVIRONMENTS.teams;
const UNKNOWN_ENV = '0d0e0f10-1112-4314-9516-171819202122';
const { contoso: OWN, fabrikam: FABRIKAM, woodgrove: WOODGROVE } = DEMO_TENANTS;
const environmentPath = (id: string) => `/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/${id}`;

t.test('captured shapes, every operation', async (t) => {
  // A short call deadline: a read that keeps getting 503 gives up within seconds.
  const stack = await startStack({ speed: 1e-9, env: { UPSTREAM_DEADLINE_SECONDS: '3' } });
  t.teardown(() => stack.close());
  const sim = stack.sim.control;
  const replay = (route: RouteName, name: ShapeName | null, extra: Partial<FaultSpec> = {}) =>
    sim.addFault({ route, kind: 'replay', status: 200, ...(name ? { body: shape(name) } : {}), ...extra });
  t.beforeEach(() => {
    sim.reset();
    // Every call below reads these: the tenant lookup and the environments, in the captured shapes.
    replay('bap.tenant', 'bap-tenant');
    replay('bap.environments', 'bap-environments');
    replay('bap.environment', 'bap-environment-with-dataverse', { path: environmentPath(SALES) });
    replay('bap.environment', 'bap-environment-no-dataverse', { path: environmentPath(TEAMS) });
    replay('bap.environment', 'bap-environment-404', { path: environmentPath(UNKNOWN_ENV), status: 404 });
  });

  t.test('ListEnvironments: with and without Dataverse (linkedEnvironmentMetadata null)', async (t) => {
    const res = await stack.request('GET', '/v1/environments');
    t.equal(res.status, 200, JSON.stringify(res.body));
    t.match(res.body.value, [
      { id: SALES, displayName: 'Contoso Sales', hasDataverse: true, dataverseUrl: 'https://contososales.crm.dynamics.com/' },
      { id: TEAMS, displayName: 'Contoso Teams', hasDataverse: false },
    ]);
  });

  t.test('ListPackages and GetPackage: null and "" texts; no Dataverse; unknown environment', async (t) => {
    replay('ppapi.listPackages', 'ppapi-environment-packages');
    const list = await stack.request('GET', `/v1/environments/${SALES}/packages`);
    t.equal(list.status, 200, JSON.stringify(list.body));
    t.match(list.body.value, [
      { uniqueName: 'msdyn_ContosoSurveysAnchor', version: '3.1.0.12', installed: false },
      { uniqueName: 'msdyn_FieldInspectionsAnchor', version: '1.4.2.3', installed: false },
    ]);
    const one = await stack.request('GET', `/v1/environments/${SALES}/packages/msdyn_FieldInspectionsAnchor`);
    t.equal(one.status, 200, JSON.stringify(one.body));
    t.match(one.body, { uniqueName: 'msdyn_FieldInspectionsAnchor', publisherName: 'Microsoft Power Pages' });
    t.notOk(one.body.description, 'a null description stays empty');

    sim.clearFaults();
    replay('bap.environment', 'bap-environment-with-dataverse', { path: environmentPath(SALES) });
    replay('ppapi.listPackages', null, { body: { value: [shape('ppapi-list-entry-empty-texts')] } });
    const learn = await stack.request('GET', `/v1/environments/${SALES}/packages/ContosoExpenseApprovals`);
    t.equal(learn.status, 200, JSON.stringify(learn.body));
    t.match(learn.body, { uniqueName: 'ContosoExpenseApprovals', version: '2.0.0.45', description: 'Route expense reports to approvers.' });

    replay('bap.environment', 'bap-environment-no-dataverse', { path: environmentPath(TEAMS) });
    const teams = await stack.request('GET', `/v1/environments/${TEAMS}/packages`);
    t.equal(teams.status, 409, 'no Dataverse (linkedEnvironmentMetadata null) is refused before any PPAPI call');
    t.equal(teams.body.error.code, 'DataverseRequired');

    replay('bap.environment', 'bap-environment-404', { path: environmentPath(UNKNOWN_ENV), status: 404 });
    const unknown = await stack.request('GET', `/v1/environments/${UNKNOWN_ENV}/packages`);
    t.equal(unknown.status, 404, JSON.stringify(unknown.body));
  });

  t.test('InstallPackage + GetInstallStatus: 202 with Operation-Location and no body, NotStarted, then Succeeded', async (t) => {
    replay('ppapi.listPackages', 'ppapi-environment-packages');
    replay('ppapi.install', null, { status: 202, headers: installAnswerHeaders(stack.sim.origin, SALES), times: 1 });
    // terraform's client also meets "poll again" (409) and throttling (429 + Retry-After), both with empty bodies.
    replay('ppapi.operation', null, { status: 409, times: 1 });
    replay('ppapi.operation', null, { status: 429, headers: { 'retry-after': '1' }, times: 1 });
    replay('ppapi.operation', 'ppapi-operation-notstarted', { times: 1 });
    replay('ppapi.operation', 'ppapi-operation-succeeded');
    const first = await stack.request('POST', `/v1/environments/${SALES}/packages/msdyn_ContosoSurveysAnchor/install`);
    t.equal(first.status, 202, JSON.stringify(first.body));
    t.equal(first.body.operationId, SHAPE_OPERATION_ID, "the id from upstream's Operation-Location");
    const run = await followLikeEngine(first);
    t.equal(run.final.status, 200, JSON.stringify(run.final.body));
    t.match(run.final.body, {
      operationId: SHAPE_OPERATION_ID,
      status: 'Succeeded',
      packageUniqueName: 'msdyn_ContosoSurveysAnchor',
      packageVersion: '3.1.0.12',
      startedAt: '2026-10-02T08:30:11.2233445Z',
      completedAt: '2026-10-02T08:32:40.9988776Z',
      statusMessage: null,
      error: null,
      waitTimedOut: false,
    });
    const polls = sim.calls({ route: 'ppapi.operation' });
    t.same(polls.slice(0, 3).map((c) => c.status), [409, 429, 200], 'through 409 and 429 to the answers');
    for (const call of polls) t.match(call.url, /api-version=1$/, 'polled at Operation-Location');
    const status = await stack.request('GET', `/v1/environments/${SALES}/operations/${SHAPE_OPERATION_ID}`);
    t.equal(status.status, 200);
    t.match(status.body, { status: 'Succeeded', packageUniqueName: 'msdyn_ContosoSurveysAnchor', packageVersion: '3.1.0.12' });
  });

  t.test('InstallPackage: 200 with the InstancePackage body and no header (the Learn example)', async (t) => {
    replay('ppapi.listPackages', null, { body: { value: [shape('ppapi-list-entry-empty-texts')] } });
    replay('ppapi.install', 'ppapi-install-response', { times: 1 });
    replay('ppapi.operation', 'ppapi-operation-notstarted', { times: 1 });
    replay('ppapi.operation', 'ppapi-operation-succeeded');
    const first = await stack.request('POST', `/v1/environments/${SALES}/packages/ContosoExpenseApprovals/install`);
    t.equal(first.status, 202, JSON.stringify(first.body));
    t.equal(first.body.operationId, SHAPE_OPERATION_ID, 'the id from lastOperation.operationId');
    const run = await followLikeEngine(first);
    t.match(run.final.body, { status: 'Succeeded', packageVersion: '2.0.0.45' });
  });

  t.test("a 503 with the flat body: upstream's correlation id reaches the caller, nothing is POSTed twice", async (t) => {
    const failing = { status: 503, headers: { 'x-ms-correlation-id': SHAPE_503_CORRELATION_ID } };
    replay('ppapi.listPackages', 'ppapi-503', failing);
    const list = await stack.request('GET', `/v1/environments/${SALES}/packages`);
    t.ok([503, 504].includes(list.status), `upstream unavailable, after retries (${list.status})`);
    t.equal(list.body.error.details.upstreamCorrelationId, SHAPE_503_CORRELATION_ID);
    t.match(list.body.error.message, /An unexpected error occurred/);

    sim.clearFaults();
    replay('bap.environment', 'bap-environment-with-dataverse', { path: environmentPath(SALES) });
    replay('ppapi.listPackages', 'ppapi-environment-packages');
    replay('ppapi.install', 'ppapi-503', failing);
    const install = await stack.request('POST', `/v1/environments/${SALES}/packages/msdyn_FieldInspectionsAnchor/install`);
    t.equal(install.status, 503, JSON.stringify(install.body));
    t.equal(install.body.error.code, 'InstallNotStarted');
    t.equal(install.body.error.details.upstreamCorrelationId, SHAPE_503_CORRELATION_ID);
    t.equal(sim.calls({ route: 'ppapi.install' }).length, 1);
  });

  t.test('GetIsolationPolicy: never configured (the simulator default), stored, updated, flat', async (t) => {
    sim.setPolicy(OWN, undefined);
    const never = await stack.request('GET', '/v1/tenant-isolation');
    t.equal(never.status, 200, JSON.stringify(never.body));
    t.match(never.body, { tenantId: OWN, configured: false, enabled: false, rules: [] });

    sim.setPolicy(OWN, shape('bap-isolation-updated'));
    const updated = await stack.request('GET', '/v1/tenant-isolation');
    t.match(updated.body, { configured: true, enabled: false });
    t.match(updated.body.rules, [
      { tenantId: FABRIKAM, direction: 'Both' },
      { tenantId: WOODGROVE, direction: 'Outbound' },
    ]);

    sim.setPolicy(OWN, shape('bap-isolation-flat'));
    const flat = await stack.request('GET', '/v1/tenant-isolation');
    t.match(flat.body, { configured: true, enabled: true, rules: [{ tenantId: FABRIKAM, direction: 'Inbound' }] });
  });

  t.test('isolation writes on the captured policy: upsert, enable/disable, remove, replace, changes', async (t) => {
    sim.setPolicy(OWN, shape('bap-isolation-policy'));
    const upsert = await stack.request('PUT', `/v1/tenant-isolation/rules/${WOODGROVE}`, { body: { direction: 'Outbound', reason: 'shapes' } });
    t.equal(upsert.status, 200, JSON.stringify(upsert.body));
    t.match(upsert.body, { applied: true, changed: true, verified: true });
    const enabled = await stack.request('PUT', '/v1/tenant-isolation/enabled', { body: { enabled: false } });
    t.equal(enabled.status, 200, JSON.stringify(enabled.body));
    t.equal(enabled.body.policy.enabled, false);
    const removed = await stack.request('DELETE', `/v1/tenant-isolation/rules/${WOODGROVE}`);
    t.equal(removed.status, 200, JSON.stringify(removed.body));
    const replaced = await stack.request('PUT', '/v1/tenant-isolation', { body: { enabled: true, rules: [], confirmRemovals: true } });
    t.equal(replaced.status, 200, JSON.stringify(replaced.body));
    t.same(sim.getPolicy(), shape('bap-isolation-all-removed'), 'what upstream stores is the "all removed" shape');
    const changes = await stack.request('GET', '/v1/tenant-isolation/changes');
    t.equal(changes.status, 200);
    t.ok(changes.body.value.length >= 4, 'one record per change');
  });

  t.test('an isolation PUT answered 400 with the BAP envelope and details', async (t) => {
    sim.setPolicy(OWN, shape('bap-isolation-policy'));
    replay('bap.isolation.put', 'bap-isolation-put-400', { status: 400 });
    const res = await stack.request('PUT', `/v1/tenant-isolation/rules/${WOODGROVE}`, { body: { direction: 'Inbound' } });
    t.equal(res.status, 400, JSON.stringify(res.body));
    t.match(res.body.error.message, /Invalid tenant ID format/);
    t.match(JSON.stringify(res.body.error.details), /The tenant ID must be a valid GUID/);
  });

  t.test('BAP 403 for a service principal that is not a management application', async (t) => {
    replay('bap.isolation.get', 'bap-403-not-registered', { status: 403 });
    const res = await stack.request('GET', '/v1/tenant-isolation');
    t.equal(res.status, 403, JSON.stringify(res.body));
    t.equal(res.body.error.code, 'NotRegisteredAsManagementApp');
    t.match(res.body.error.message, /pac admin application register/);
  });
});

t.test('an Entra 401 invalid_client: AADSTS code, message, trace and correlation ids in details', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const entra = shape('entra-401-invalid-client');
  stack.sim.control.addFault({ route: 'entra.token', kind: 'replay', status: 401, body: entra });
  const res = await stack.request('GET', '/v1/environments');
  t.equal(res.status, 502, JSON.stringify(res.body));
  t.equal(res.body.error.code, 'UpstreamTokenUnavailable');
  t.match(res.body.error.details, {
    error: 'invalid_client',
    aadstsCode: 'AADSTS7000215',
    message: /^Invalid client secret provided\./,
    traceId: entra.trace_id,
    correlationId: entra.correlation_id,
  });
  t.notMatch(res.body.error.message, /\r/, 'no stray carriage return');
  t.match(res.body.error.message, entra.trace_id);
});
