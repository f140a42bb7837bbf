// Replays every captured upstream body in ../shared/real-payloads (public captures kept outside the
// repository; its README names the source of each and how it is served) to the relay in live mode,
// and checks the relay's answers. Clones without that folder skip this file: the same shapes, written
// for the project, run in captured-shapes.test.ts everywhere.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { defaultSeed } from '../../src/simulator/seed.js';
import type { FaultSpec, RouteName } from '../../src/simulator/types.js';
import { type Stack, startStack } from '../helpers/stack.js';
import { followLikeEngine } from '../installs/packages-engine.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DIR = resolve(ROOT, '../shared/real-payloads');

// The ids the captures use (anonymised by their authors).
const TENANT = '00000000-0000-0000-0000-000000000001';
const ENV_DATAVERSE = '00000000-0000-0000-0000-000000000001';
const ENV_NO_DATAVERSE = '00000000-0000-0000-0000-000000000002';
const ENV_GONE = '00000000-0000-0000-0000-000000000003';
const RULE_A = '11111111-1111-1111-1111-111111111111';
const RULE_B = '22222222-2222-2222-2222-222222222222';
const environmentPath = (id: string) => `/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/${id}`;

// biome-ignore lint/suspicious/noExplicitAny: captured JSON documents
const load = (file: string): any => JSON.parse(readFileSync(resolve(DIR, file), 'utf8'));

type Replay = (route: RouteName, file: string | null, extra?: Partial<FaultSpec>) => void;
type Check = (t: Test, stack: Stack, replay: Replay) => Promise<void>;

/** Every capture and what the relay must make of it; a new capture without an entry fails the test. */
const CHECKS: Record<string, Check> = {
  'tf-bap-tenant.json': async (t, stack) => {
    const res = await stack.request('GET', '/v1/tenant-isolation');
    t.equal(res.body.tenantId, TENANT, 'the own tenant comes from the tenant lookup');
  },
  'tf-bap-environments.json': async (t, stack, replay) => {
    replay('bap.environments', 'tf-bap-environments.json');
    const res = await stack.request('GET', '/v1/environments');
    t.equal(res.status, 200, JSON.stringify(res.body));
    t.match(res.body.value, [
      { id: ENV_DATAVERSE, hasDataverse: true, dataverseUrl: `https://${ENV_DATAVERSE}.crm4.dynamics.com/` },
      { id: ENV_NO_DATAVERSE, hasDataverse: false },
    ]);
  },
  'tf-bap-environment-with-dataverse.json': async (t, stack, replay) => {
    replay('ppapi.listPackages', 'tf-ppapi-environment-packages.json');
    const res = await stack.request('GET', `/v1/environments/${ENV_DATAVERSE}/packages`);
    t.equal(res.status, 200, JSON.stringify(res.body));
  },
  'tf-bap-environment-no-dataverse.json': async (t, stack) => {
    const res = await stack.request('GET', `/v1/environments/${ENV_NO_DATAVERSE}/packages`);
    t.equal(res.status, 409, JSON.stringify(res.body));
    t.equal(res.body.error.code, 'DataverseRequired');
  },
  'tf-bap-environment-404.json': async (t, stack) => {
    const res = await stack.request('GET', `/v1/environments/${ENV_GONE}/packages`);
    t.equal(res.status, 404, JSON.stringify(res.body));
  },
  'tf-ppapi-environment-packages.json': async (t, stack, replay) => {
    replay('ppapi.listPackages', 'tf-ppapi-environment-packages.json');
    const res = await stack.request('GET', `/v1/environments/${ENV_DATAVERSE}/packages`);
    t.match(res.body.value, [
      { uniqueName: 'MicrosoftFormsPro', version: '2.0.0.45', installed: false },
      { uniqueName: 'msdyn_IOMOrderReturnsPortalAnchor', version: '1.0.0.78', installed: false },
    ]);
    const one = await stack.request('GET', `/v1/environments/${ENV_DATAVERSE}/packages/msdyn_IOMOrderReturnsPortalAnchor`);
    t.equal(one.status, 200, 'a null localizedDescription is read');
  },
  'tf-ppapi-operation-succeeded.json': async (t, stack, replay) => {
    // Served as terraform's install test does: POST 202, empty body, Operation-Location (our origin).
    const op = load('tf-ppapi-operation-succeeded.json').operationId as string;
    replay('ppapi.listPackages', 'tf-ppapi-environment-packages.json');
    replay('ppapi.install', null, {
      status: 202,
      headers: { 'operation-location': `${stack.sim.origin}/appmanagement/environments/402c2b45-f5dc-e561-869f-368544f94a13/operations/${op}?api-version=1` },
      times: 1,
    });
    replay('ppapi.operation', 'tf-ppapi-operation-succeeded.json');
    const first = await stack.request('POST', `/v1/environments/${ENV_DATAVERSE}/packages/MicrosoftFormsPro/install`);
    t.equal(first.status, 202, JSON.stringify(first.body));
    t.equal(first.body.operationId, op);
    const run = await followLikeEngine(first);
    t.match(run.final.body, { status: 'Succeeded', packageUniqueName: 'MicrosoftFormsPro', packageVersion: '2.0.0.45', error: null });
    for (const call of stack.sim.control.calls({ route: 'ppapi.operation' })) t.match(call.url, /402c2b45.*api-version=1$/, 'polled at Operation-Location');
    const status = await stack.request('GET', `/v1/environments/${ENV_DATAVERSE}/operations/${op}`);
    t.match(status.body, { status: 'Succeeded', packageUniqueName: 'MicrosoftFormsPro', packageVersion: '2.0.0.45' });
  },
  'learn-ppapi-list-entry.json': async (t, stack, replay) => {
    replay('ppapi.listPackages', null, { body: { value: [load('learn-ppapi-list-entry.json')] } });
    const res = await stack.request('GET', `/v1/environments/${ENV_DATAVERSE}/packages/Office365Groups`);
    t.equal(res.status, 200, JSON.stringify(res.body));
    t.match(res.body, { uniqueName: 'Office365Groups', version: '2.9.0.3' });
  },
  'learn-ppapi-install-response.json': async (t, stack, replay) => {
    replay('ppapi.listPackages', null, { body: { value: [load('learn-ppapi-list-entry.json')] } });
    replay('ppapi.install', 'learn-ppapi-install-response.json', { times: 1 });
    replay('ppapi.operation', 'learn-ppapi-operation-notstarted.json');
    const res = await stack.request('POST', `/v1/environments/${ENV_DATAVERSE}/packages/Office365Groups/install`);
    t.equal(res.status, 202, JSON.stringify(res.body));
    t.equal(res.body.operationId, load('learn-ppapi-install-response.json').lastOperation.operationId, 'from lastOperation.operationId');
  },
  'learn-ppapi-operation-notstarted.json': async (t, stack, replay) => {
    // Created in 2022: far older than INSTALL_DEADLINE_MINUTES, and still upstream's NotStarted.
    const captured = load('learn-ppapi-operation-notstarted.json');
    replay('ppapi.operation', 'learn-ppapi-operation-notstarted.json');
    const res = await stack.request('GET', `/v1/environments/${ENV_DATAVERSE}/operations/${captured.operationId}`);
    t.equal(res.status, 200, JSON.stringify(res.body));
    t.match(res.body, { status: 'NotStarted', waitTimedOut: false, startedAt: captured.createdDateTime, completedAt: null });
  },
  'tf-bap-isolation-never-configured.json': async (t, stack, replay) => {
    replay('bap.isolation.get', 'tf-bap-isolation-never-configured.json');
    const res = await stack.request('GET', '/v1/tenant-isolation');
    t.match(res.body, { configured: false, enabled: false, rules: [] });
  },
  'tf-bap-isolation-create-response.json': async (t, stack) => {
    stack.sim.control.setPolicy(TENANT, load('tf-bap-isolation-create-response.json'));
    const res = await stack.request('GET', '/v1/tenant-isolation');
    t.match(res.body, { configured: true, enabled: true, rules: [{ tenantId: RULE_A, direction: 'Inbound' }] });
  },
  'tf-bap-isolation-initial.json': async (t, stack) => {
    stack.sim.control.setPolicy(TENANT, load('tf-bap-isolation-initial.json'));
    const res = await stack.request('PUT', `/v1/tenant-isolation/rules/${RULE_B}`, { body: { direction: 'Outbound' } });
    t.equal(res.status, 200, JSON.stringify(res.body));
    t.match(res.body, { verified: true, changed: true });
    t.same((stack.sim.control.getPolicy(TENANT) as { properties: { allowedTenants: unknown[] } }).properties.allowedTenants, [
      { tenantId: RULE_A, direction: { inbound: true, outbound: false } },
      { tenantId: RULE_B, direction: { inbound: false, outbound: true } },
    ]);
  },
  'tf-bap-isolation-updated.json': async (t, stack) => {
    stack.sim.control.setPolicy(TENANT, load('tf-bap-isolation-updated.json'));
    const res = await stack.request('GET', '/v1/tenant-isolation');
    t.match(res.body, { configured: true, enabled: false });
    t.match(res.body.rules, [
      { tenantId: RULE_A, direction: 'Both' },
      { tenantId: RULE_B, direction: 'Outbound' },
    ]);
  },
  'tf-bap-isolation-all-removed.json': async (t, stack) => {
    stack.sim.control.setPolicy(TENANT, load('tf-bap-isolation-initial.json'));
    const res = await stack.request('PUT', '/v1/tenant-isolation', { body: { enabled: true, rules: [], confirmRemovals: true } });
    t.equal(res.status, 200, JSON.stringify(res.body));
    t.same(stack.sim.control.getPolicy(TENANT), load('tf-bap-isolation-all-removed.json'), 'stored as the capture');
  },
  'tf-bap-isolation-put-400.json': async (t, stack, replay) => {
    stack.sim.control.setPolicy(TENANT, load('tf-bap-isolation-initial.json'));
    replay('bap.isolation.put', 'tf-bap-isolation-put-400.json', { status: 400 });
    const res = await stack.request('PUT', `/v1/tenant-isolation/rules/${RULE_B}`, { body: { direction: 'Inbound' } });
    t.equal(res.status, 400, JSON.stringify(res.body));
    t.match(res.body.error.message, /Invalid tenant ID format/);
  },
  'tf-bap-isolation-flat-unused.json': async (t, stack) => {
    stack.sim.control.setPolicy(TENANT, load('tf-bap-isolation-flat-unused.json'));
    const res = await stack.request('GET', '/v1/tenant-isolation');
    t.match(res.body, { configured: true, enabled: true, rules: [{ tenantId: RULE_A, direction: 'Inbound' }] });
  },
  'issue-ppapi-503-unexpected-error.json': async (t, stack, replay) => {
    const corr = '766caf57-e31a-4445-a155-aa9882f4b331';
    const failing = { status: 503, headers: { 'x-ms-correlation-id': corr } };
    replay('ppapi.listPackages', 'issue-ppapi-503-unexpected-error.json', failing);
    const list = await stack.request('GET', `/v1/environments/${ENV_DATAVERSE}/packages`);
    t.ok([503, 504].includes(list.status), `unavailable (${list.status})`);
    t.equal(list.body.error.details.upstreamCorrelationId, corr);
    stack.sim.control.clearFaults();
    replayBase(replay);
    replay('ppapi.listPackages', 'tf-ppapi-environment-packages.json');
    replay('ppapi.install', 'issue-ppapi-503-unexpected-error.json', failing);
    const install = await stack.request('POST', `/v1/environments/${ENV_DATAVERSE}/packages/MicrosoftFormsPro/install`);
    t.equal(install.status, 503, JSON.stringify(install.body));
    t.equal(install.body.error.details.upstreamCorrelationId, corr);
  },
  'issue-bap-403-not-registered.json': async (t, stack, replay) => {
    stack.sim.control.clearFaults();
    replay('bap.tenant', 'tf-bap-tenant.json');
    replay('bap.environments', 'issue-bap-403-not-registered.json', { status: 403 });
    replay('bap.isolation.get', 'issue-bap-403-not-registered.json', { status: 403 });
    for (const path of ['/v1/environments', '/v1/tenant-isolation']) {
      const res = await stack.request('GET', path);
      t.equal(res.status, 403, `${path}: ${JSON.stringify(res.body)}`);
      t.equal(res.body.error.code, 'NotRegisteredAsManagementApp');
    }
  },
  'issue-entra-401-invalid-client.json': async (t) => {
    // A second relay, started with a revoked client: its token requests get the captured 401.
    const captured = load('issue-entra-401-invalid-client.json');
    const revoked = await startStack({ speed: 1e-9, env: { UPSTREAM_DEADLINE_SECONDS: '3' } });
    t.teardown(() => revoked.close());
    revoked.sim.control.addFault({ route: 'entra.token', kind: 'replay', status: 401, body: captured });
    const res = await revoked.request('GET', '/v1/environments');
    t.equal(res.status, 502, JSON.stringify(res.body));
    t.match(res.body.error.details, { aadstsCode: 'AADSTS7000215', traceId: captured.trace_id, correlationId: captured.correlation_id });
    t.notMatch(res.body.error.message, /\r/);
  },
};

/** What every check starts from: the captured tenant and environments. */
function replayBase(replay: Replay) {
  replay('bap.tenant', 'tf-bap-tenant.json');
  replay('bap.environment', 'tf-bap-environment-with-dataverse.json', { path: environmentPath(ENV_DATAVERSE) });
  replay('bap.environment', 'tf-bap-environment-no-dataverse.json', { path: environmentPath(ENV_NO_DATAVERSE) });
  replay('bap.environment', 'tf-bap-environment-404.json', { path: environmentPath(ENV_GONE), status: 404 });
}

if (!existsSync(DIR)) {
  t.skip(
    `every real upstream capture, replayed to the relay: skipped because ${DIR} is not in this clone (only CI has ../shared); captured-shapes.test.ts covers the same shapes`,
    () => {},
  );
} else {
  t.test('every real upstream capture, replayed to the relay', async (t) => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
    t.same(files.filter((f) => !(f in CHECKS)), [], 'every capture has a check here');
    // The captures' home tenant, so the captured policies belong to the tenant the relay writes.
    const stack = await startStack({
      speed: 1e-9,
      seed: { ...defaultSeed(), tenantId: TENANT, isolationPolicy: null },
      env: { UPSTREAM_DEADLINE_SECONDS: '3' },
    });
    t.teardown(() => stack.close());
    const replay: Replay = (route, file, extra = {}) =>
      stack.sim.control.addFault({ route, kind: 'replay', status: 200, ...(file ? { body: load(file) } : {}), ...extra });
    for (const file of files.filter((f) => f in CHECKS)) {
      await t.test(file, async (t) => {
        stack.sim.control.reset();
        replayBase(replay);
        await CHECKS[file]!(t, stack, replay);
      });
    }
  });
}
