// Every operation driven over real HTTP against the simulator, through its success and error
// paths (dry runs, no-ops, ifRevision, failOnError=false, waitSeconds, 202 polling through Location
// without credentials, injected upstream 429/5xx/busy, failed and canceled installs), and every
// answer checked against the full contract (status, body, headers) and the connector definition
// (status, and 2xx bodies with OpenAPI 2.0 tools' semantics). Zero violations.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sha256Hex } from '../../src/http/api-keys.js';
import { type Stack, type StackResponse, startStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait-for.js';
import { type Answer, ContractChecker } from './helpers/contract-check.js';

const SALES = '3f2e1d0c-9b8a-4776-a554-433221100ffe';
const DEFAULT_ENV = 'Default-7c3d9f2a-0b1e-4c5d-8e6f-9a0b1c2d3e4f';
const TEAMS = '8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d';
const READER_KEY = `reader-${randomUUID()}`;

const checker = new ContractChecker();
const answers: Answer[] = [];

const stack: Stack = await startStack({
  speed: 1,
  env: {
    // Upstream faults reach the caller after one second of retries instead of a minute.
    UPSTREAM_DEADLINE_SECONDS: '1',
    BODY_LIMIT_BYTES: '4096',
    RATE_LIMIT_PER_MINUTE: '100000',
    API_KEYS: `reader:${sha256Hex(READER_KEY)}:packages.read+isolation.read`,
  },
});
t.teardown(() => stack.close());
const { control } = stack.sim;
// The relay's first upstream call also fetches its token; on a busy machine that can take longer
// than the one-second deadline above, so it happens before any answer is recorded.
await waitFor(async () => (await stack.request('GET', '/v1/environments')).status === 200, 'a first successful upstream call');

/** One call, recorded for the contract check. */
async function call(
  method: string,
  path: string,
  init: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<StackResponse> {
  const res = await stack.request(method, path, init);
  answers.push({ method, path, status: res.status, headers: res.headers, body: res.body });
  return res;
}

/** A Location URL as the flow engine follows it: no credentials. */
const poll = (location: string, extraQuery = '') =>
  call('GET', `${location.replace(stack.baseUrl, '')}${extraQuery}`, { headers: { 'x-api-key': '' } });

/** Installs run on the simulated clock: freeze it so a 202 is certain, then let it run. */
const freeze = () => control.setSpeed(1e-9);
const runInstalls = async () => {
  await control.advanceClock(120_000);
  await control.setSpeed(50);
};

t.test('environments and packages', async (t) => {
  t.equal((await call('GET', '/v1/environments')).status, 200);
  const withDataverse = await call('GET', '/v1/environments?hasDataverse=true');
  t.equal(withDataverse.status, 200);
  t.ok(withDataverse.body.value.length > 0 && withDataverse.body.value.every((e: { hasDataverse: boolean }) => e.hasDataverse));
  t.equal((await call('GET', '/v1/environments?hasDataverse=maybe')).status, 400);
  t.equal((await call('GET', `/v1/environments/${SALES}/packages`)).status, 200);
  t.equal((await call('GET', `/v1/environments/${SALES}/packages?state=Installed&lcid=1036`)).status, 200);
  t.equal((await call('GET', `/v1/environments/not-an-id/packages`)).status, 400);
  t.equal((await call('GET', `/v1/environments/${randomUUID()}/packages`)).status, 404);
  t.equal((await call('GET', `/v1/environments/${TEAMS}/packages`)).status, 409);
  t.equal((await call('GET', `/v1/environments/${SALES}/packages/msdyn_ContosoSurveysAnchor`)).status, 200);
  t.equal((await call('GET', `/v1/environments/${SALES}/packages/Contoso%20Surveys`)).status, 404);
  t.equal((await call('GET', `/v1/environments/${SALES}/packages/${'x'.repeat(257)}`)).status, 400);
});

t.test('installs: already installed, 202 + Location without credentials, waitSeconds, failures', async (t) => {
  const install = (env: string, name: string, query = '') =>
    call('POST', `/v1/environments/${env}/packages/${name}/install${query}`);
  t.equal((await install(SALES, 'MicrosoftFormsPro')).body.alreadyInstalled, true);

  // Power Platform runs one package operation per environment at a time: two environments, two
  // installs per round.
  await freeze();
  const started = await install(SALES, 'msdyn_ContosoSurveysAnchor');
  t.equal(started.status, 202);
  t.equal((await install(SALES, 'msdyn_ContosoSurveysAnchor')).status, 202, 'a repeated POST joins');
  t.equal((await poll(started.headers.location!)).status, 202, 'Location answers 202 while it runs');
  t.equal((await call('GET', `/v1/environments/${SALES}/operations/${started.body.operationId}`)).status, 200);
  const tolerant = await install(DEFAULT_ENV, 'msdyn_SalesInsightsAddOn', '?failOnError=false');
  t.equal(tolerant.status, 202, JSON.stringify(tolerant.body));
  await runInstalls();
  const done = await poll(started.headers.location!, '&waitSeconds=30');
  t.equal(done.status, 200);
  t.equal(done.body.status, 'Succeeded');
  const branched = await poll(tolerant.headers.location!, '&waitSeconds=30');
  t.equal(branched.status, 200);
  t.equal(branched.body.status, 'Failed', 'failOnError=false answers 200 with the failure');

  await freeze();
  const failing = await install(SALES, 'msdyn_SalesInsightsAddOn');
  const canceled = await install(DEFAULT_ENV, 'msdyn_PortalMigrationTool');
  for (const r of [failing, canceled]) t.equal(r.status, 202, JSON.stringify(r.body));
  await runInstalls();
  const failed = await poll(failing.headers.location!, '&waitSeconds=30');
  t.equal(failed.status, 422);
  t.equal(failed.body.error.code, 'InstallFailed');
  t.equal((await poll(canceled.headers.location!, '&waitSeconds=30')).body.error.code, 'InstallCanceled');
  const waited = await install(DEFAULT_ENV, 'msdyn_FieldInspectionsAnchor', '?waitSeconds=30');
  t.equal(waited.status, 200, 'waitSeconds holds the request until the install ends');
  t.equal((await call('GET', `/v1/environments/${SALES}/operations/${started.body.operationId}?package=msdyn_ContosoSurveysAnchor`)).status, 200);
  t.equal((await call('GET', `/v1/environments/${SALES}/operations/not-a-guid`)).status, 400);
  const unknown = await call('GET', `/v1/environments/${SALES}/operations/${randomUUID()}`);
  t.equal(unknown.status, 404, JSON.stringify(unknown.body));
  const tampered = started.headers.location!.replace(/sig=([^&]+)/, 'sig=AAAA$1');
  t.equal((await poll(tampered)).status, 401);
  t.equal((await install(TEAMS, 'msdyn_ContosoSurveysAnchor')).status, 409, 'an environment without Dataverse');
  await control.setSpeed(1);
});

t.test('installs under upstream faults: busy, throttled, failing', async (t) => {
  const path = `/v1/environments/${SALES}/packages/ContosoExpenseApprovals/install`;
  await control.addFault({ route: 'ppapi.install', kind: 'status', status: 409, times: 1 });
  const busy = await call('POST', path);
  t.equal(busy.status, 409);
  t.equal(busy.body.error.code, 'EnvironmentBusy');
  await control.addFault({ route: 'ppapi.install', kind: 'status', status: 503 });
  const notStarted = await call('POST', path);
  t.equal(notStarted.status, 503);
  await control.clearFaults();
  await control.addFault({ route: 'ppapi.listPackages', kind: 'status', status: 429, retryAfter: '1' });
  t.equal((await call('GET', `/v1/environments/${SALES}/packages`)).status, 429);
  t.equal((await call('POST', path)).status, 429);
  await control.clearFaults();
  await control.addFault({ route: 'ppapi.listPackages', kind: 'status', status: 500 });
  const failing = await call('GET', `/v1/environments/${DEFAULT_ENV}/packages`);
  t.ok([503, 504].includes(failing.status), `upstream 5xx → ${failing.status}`);
  await control.clearFaults();
  await control.addFault({ route: 'bap.environments', kind: 'status', status: 503 });
  t.ok([503, 504].includes((await call('GET', '/v1/environments')).status));
  await control.clearFaults();
});

t.test('credentials and permissions', async (t) => {
  t.equal((await call('GET', '/v1/environments', { headers: { 'x-api-key': '' } })).status, 401);
  t.equal((await call('GET', '/v1/tenant-isolation', { headers: { 'x-api-key': 'wrong' } })).status, 401);
  const reader = { headers: { 'x-api-key': READER_KEY } };
  t.equal((await call('GET', '/v1/tenant-isolation', reader)).status, 200);
  t.equal((await call('POST', `/v1/environments/${SALES}/packages/ContosoExpenseApprovals/install`, reader)).status, 403);
  t.equal((await call('PUT', '/v1/tenant-isolation/enabled', { ...reader, body: { enabled: true } })).status, 403);
});

t.test('tenant isolation: reads, dry runs, no-ops, ifRevision, removals, paging, faults', async (t) => {
  const policy = await call('GET', '/v1/tenant-isolation');
  t.equal(policy.status, 200);
  const rule = '/v1/tenant-isolation/rules/woodgrove.onmicrosoft.com';
  const dry = await call('PUT', rule, { body: { direction: 'Inbound', dryRun: true, reason: 'contract' } });
  t.equal(dry.body.dryRun, true);
  t.equal((await call('PUT', rule, { body: { direction: 'Inbound', reason: 'contract' } })).body.applied, true);
  t.equal((await call('PUT', rule, { body: { direction: 'Inbound' } })).body.changed, false, 'a no-op');
  t.equal((await call('PUT', rule, { body: { direction: 'Both', ifRevision: policy.body.revision } })).status, 412);
  t.equal((await call('PUT', rule, { body: {} })).status, 400);
  t.equal((await call('PUT', '/v1/tenant-isolation/rules/nobody.example', { body: { direction: 'Inbound' } })).status, 400);
  const notJson = await call('PUT', rule, { body: 'direction=Inbound', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.equal(notJson.status, 415, JSON.stringify(notJson.body));
  t.equal((await call('PUT', rule, { body: { direction: 'Inbound', reason: 'x'.repeat(5000) } })).status, 413);
  t.equal((await call('PUT', `/v1/tenant-isolation/rules/${'a'.repeat(250)}.example`, { body: { direction: 'Inbound' } })).status, 400, 'a long domain reaches the resolver');
  t.equal((await call('DELETE', `${rule}?dryRun=true`)).body.dryRun, true);
  t.equal((await call('DELETE', `${rule}?reason=done`)).body.applied, true);
  t.equal((await call('DELETE', `${rule}?dryRun=perhaps`)).status, 400);
  t.equal((await call('PUT', '/v1/tenant-isolation/enabled', { body: { enabled: false, reason: 'contract' } })).status, 200);
  t.equal((await call('PUT', '/v1/tenant-isolation/enabled', { body: { enabled: true } })).status, 200);
  const replace = { enabled: true, rules: [{ tenant: 'fabrikam.onmicrosoft.com', direction: 'Inbound' }] };
  const refused = await call('PUT', '/v1/tenant-isolation', { body: replace });
  t.equal(refused.status, 409);
  t.equal(refused.body.error.code, 'RemovalsNotConfirmed');
  t.equal((await call('PUT', '/v1/tenant-isolation', { body: { ...replace, confirmRemovals: true, dryRun: true } })).status, 200);
  t.equal((await call('PUT', '/v1/tenant-isolation', { body: { ...replace, confirmRemovals: true } })).status, 200);

  const first = await call('GET', '/v1/tenant-isolation/changes?pageSize=2');
  t.equal(first.status, 200);
  t.ok(first.body.nextLink, 'more than one page');
  t.equal((await call('GET', first.body.nextLink.replace(stack.baseUrl, ''))).status, 200);
  t.equal((await call('GET', '/v1/tenant-isolation/changes?continuationToken=forged')).status, 400);
  t.equal((await call('GET', '/v1/tenant-isolation/changes?from=yesterday')).status, 400);

  await control.addFault({ route: 'bap.isolation.get', kind: 'status', status: 429, retryAfter: '1' });
  t.equal((await call('GET', '/v1/tenant-isolation')).status, 429);
  await control.clearFaults();
  await control.addFault({ route: 'bap.isolation.get', kind: 'status', status: 503 });
  t.ok([503, 504].includes((await call('GET', '/v1/tenant-isolation')).status));
  t.ok([503, 504].includes((await call('PUT', rule, { body: { direction: 'Outbound' } })).status));
  await control.clearFaults();
  await control.addFault({ route: 'bap.isolation.put', kind: 'status', status: 400, message: 'Invalid tenant ID format' });
  t.ok([400, 422].includes((await call('PUT', rule, { body: { direction: 'Outbound' } })).status));
  await control.clearFaults();
});

t.test('desired state: check and ensure, success and refusals', async (t) => {
  t.equal((await call('POST', '/v1/tenant-isolation/check', { body: { include: [{ tenant: '*', direction: 'Both' }], enabled: true } })).status, 200);
  t.equal((await call('POST', '/v1/tenant-isolation/check', { body: {} })).status, 400);
  t.equal((await call('POST', '/v1/tenant-isolation/ensure', { body: { include: [{ tenant: '*', direction: 'Both' }], dryRun: true } })).status, 200);
  t.equal((await call('POST', '/v1/tenant-isolation/ensure', { body: { include: [{ tenant: '*', direction: 'Both' }], reason: 'contract ensure' } })).status, 200);
  t.equal((await call('POST', '/v1/tenant-isolation/ensure', { body: { exact: [] } })).status, 409);
});

t.test('the install-finished trigger: baseline, nothing new, bad input', async (t) => {
  const base = await call('GET', `/v1/environments/${SALES}/triggers/package-installs?pollSeconds=60`);
  t.equal(base.status, 202, JSON.stringify(base.body));
  const quiet = await call('GET', base.headers.location!.replace(stack.baseUrl, ''));
  t.equal(quiet.status, 202);
  // An install started outside the relay, run to its end on the simulated clock.
  await stack.upstream.appManagement.installPackage(SALES, 'msdyn_AppDeploymentAnchor', { correlationId: 'contract-outside-install' });
  await runInstalls();
  await waitFor(() => control.packageState(SALES, 'msdyn_AppDeploymentAnchor') === 'Installed', 'the outside update to end');
  const fired = await call('GET', quiet.headers.location!.replace(stack.baseUrl, ''));
  t.equal(fired.status, 200, JSON.stringify(fired.body));
  t.equal((await call('GET', `/v1/environments/${SALES}/triggers/package-installs?cursor=forged`)).status, 400);
  t.equal((await call('GET', `/v1/environments/${TEAMS}/triggers/package-installs`)).status, 409);
});

t.test('the isolation policy trigger: baseline, nothing new, changes, bad input', async (t) => {
  const base = await call('GET', '/v1/tenant-isolation/trigger/changes?pollSeconds=60');
  t.equal(base.status, 202);
  const next = () => base.headers.location!.replace(stack.baseUrl, '');
  t.equal((await call('GET', next())).status, 202);
  t.equal((await call('PUT', '/v1/tenant-isolation/enabled', { body: { enabled: false, reason: 'contract trigger' } })).status, 200);
  const fired = await call('GET', next());
  t.equal(fired.status, 200);
  t.equal(fired.body.value.length, 1);
  t.equal((await call('GET', '/v1/tenant-isolation/trigger/changes?pollSeconds=1')).status, 400);
  t.equal((await call('GET', '/v1/tenant-isolation/trigger/changes?cursor=forged')).status, 400);
});

t.test('rollouts', async (t) => {
  const body = { packageUniqueName: 'msdyn_FieldInspectionsAnchor', environmentIds: [SALES, TEAMS], reason: 'contract' };
  t.equal((await call('POST', '/v1/rollouts', { body: { ...body, dryRun: true } })).status, 200);
  t.equal((await call('POST', '/v1/rollouts', { body: { reason: 'contract', environmentIds: [SALES] } })).status, 400);
  freeze();
  const started = await call('POST', '/v1/rollouts', { body });
  t.equal(started.status, 202);
  t.equal((await poll(started.headers.location!)).status, 202);
  t.equal((await call('GET', `/v1/rollouts/${started.body.rolloutId}`)).status, 200);
  t.equal((await call('POST', `/v1/rollouts/${started.body.rolloutId}/cancel`, { body: { reason: 'contract' } })).status, 200);
  await runInstalls();
  t.equal((await poll(started.headers.location!, '&waitSeconds=60')).status, 422, 'canceled fails the action');
  const failing = await call('POST', '/v1/rollouts?failOnError=false&waitSeconds=60', { body: { ...body, packageUniqueName: 'msdyn_SalesInsightsAddOn' } });
  t.equal(failing.status, 200);
  t.equal(failing.body.status, 'Failed');
  const list = await call('GET', '/v1/rollouts?pageSize=1');
  t.equal(list.status, 200);
  t.ok(list.body.nextLink);
  t.equal((await call('GET', '/v1/rollouts?continuationToken=forged')).status, 400);
  const unknown = randomUUID();
  t.equal((await call('GET', `/v1/rollouts/${unknown}`)).status, 404);
  t.equal((await call('POST', `/v1/rollouts/${unknown}/cancel`, { body: { reason: 'contract' } })).status, 404);
  t.equal((await call('POST', `/v1/rollouts/${unknown}/cancel`, { body: {} })).status, 400);
});

t.test('every answer fits the full contract and the connector definition', async (t) => {
  const violations = answers.flatMap((a) => checker.check(a));
  t.same(violations, [], `${answers.length} answers checked`);
  const byOperation = new Map<string, Set<number>>();
  for (const a of answers) {
    const id = checker.operationOf(a.method, a.path)?.operationId ?? '?';
    byOperation.set(id, (byOperation.get(id) ?? new Set()).add(a.status));
  }
  const operations = [...new Set(Object.values(checker.contract.paths as Record<string, Record<string, { operationId: string }>>).flatMap((item) => Object.values(item).map((op) => op.operationId)))];
  for (const id of operations) {
    const seen = [...(byOperation.get(id) ?? [])];
    t.ok(seen.some((s) => s < 300), `${id}: a success (${seen.join(', ')})`);
    t.ok(seen.some((s) => s >= 400), `${id}: an error (${seen.join(', ')})`);
  }
  t.comment([...byOperation].map(([id, s]) => `${id}: ${[...s].sort().join(' ')}`).join('\n'));
});
