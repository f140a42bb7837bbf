import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { DEMO_ENVIRONMENTS, defaultSeed, startSimulator } from '../../src/simulator/index.js';
import { appToken, BAP_SCOPE, call, closeAll, PPAPI_SCOPE } from './helpers.js';

const sim = await startSimulator({ speed: 1e-9 });
t.teardown(() => closeAll(sim));
const bap = await appToken(sim, BAP_SCOPE);
const ppapi = await appToken(sim, PPAPI_SCOPE);
const listPath = `/appmanagement/environments/${DEMO_ENVIRONMENTS.sales}/applicationPackages?api-version=2024-10-01`;
const policyPath = `/providers/PowerPlatform.Governance/v1/tenants/${sim.tenantId}/tenantIsolationPolicy`;
type Policy = { properties: { isDisabled: boolean; allowedTenants: { tenantId: string }[] } };

t.beforeEach(() => sim.control.reset());

t.test('429 with Retry-After for the next N calls, then normal answers', async (t) => {
  sim.control.addFault({
    route: 'ppapi.listPackages',
    kind: 'status',
    status: 429,
    retryAfter: '2',
    times: 2,
  });
  const a = await call(sim, 'GET', listPath, { token: ppapi });
  const b = await call(sim, 'GET', listPath, { token: ppapi });
  const c = await call(sim, 'GET', listPath, { token: ppapi });
  t.same([a.status, b.status, c.status], [429, 429, 200]);
  t.equal(a.headers['retry-after'], '2');
  t.ok(a.json.code, 'PPAPI flat envelope');
  t.ok(a.headers['x-ms-correlation-id']);
  const calls = sim.control.calls({ route: 'ppapi.listPackages' });
  t.same(
    calls.map((x) => x.status),
    [429, 429, 200],
  );
  t.ok(calls[0]!.faults?.length, 'the call log names the fault');
});

t.test('503 bodies use each surface envelope, or the forced one', async (t) => {
  sim.control.addFault({ route: '*', kind: 'status', status: 503 });
  const p = await call(sim, 'GET', listPath, { token: ppapi });
  t.same(p.json, { code: 'UnexpectedError', message: 'An unexpected error occurred.' });
  const b = await call(sim, 'GET', policyPath, { token: bap });
  t.equal(b.status, 503);
  t.equal(b.json.error.code, 'ServiceUnavailable');
  const e = await call(sim, 'POST', `/${sim.tenantId}/oauth2/v2.0/token`, {
    form: { grant_type: 'client_credentials' },
  });
  t.equal(e.json.error, 'temporarily_unavailable', 'Entra uses the OAuth shape');
  sim.control.clearFaults();
  sim.control.addFault({ route: 'bap.isolation.get', kind: 'status', status: 500, envelope: 'ppapi' });
  const forced = await call(sim, 'GET', policyPath, { token: bap });
  t.equal(forced.status, 500);
  t.equal(forced.json.code, 'InternalServerError');
  t.equal((await call(sim, 'GET', '/_simulator/faults')).status, 200, 'the control API is never faulted');
});

t.test('a 401 fault can carry a CAE challenge', async (t) => {
  const challenge = 'Bearer error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="';
  sim.control.addFault({
    route: 'bap.isolation.get',
    kind: 'status',
    status: 401,
    wwwAuthenticate: challenge,
    times: 1,
  });
  const res = await call(sim, 'GET', policyPath, { token: bap });
  t.equal(res.status, 401);
  t.equal(res.headers['www-authenticate'], challenge);
  t.equal(res.json.error.code, 'Unauthorized');
});

t.test('reset drops the connection; latency delays the answer', async (t) => {
  sim.control.addFault({ route: 'bap.tenant', kind: 'reset', times: 1 });
  await t.rejects(call(sim, 'GET', '/providers/Microsoft.BusinessAppPlatform/tenant', { token: bap }));
  const ok = await call(sim, 'GET', '/providers/Microsoft.BusinessAppPlatform/tenant', { token: bap });
  t.equal(ok.status, 200);
  t.same(
    sim.control.calls({ route: 'bap.tenant' }).map((c) => c.status),
    [0, 200],
    'a reset call is logged with status 0',
  );

  sim.control.addFault({ route: 'bap.tenant', kind: 'latency', latencyMs: 300, times: 1 });
  const started = Date.now();
  t.equal(
    (await call(sim, 'GET', '/providers/Microsoft.BusinessAppPlatform/tenant', { token: bap })).status,
    200,
  );
  t.ok(Date.now() - started >= 290, 'held for at least the latency');
});

t.test('after: true — upstream did the work, the caller sees a 503 or a dropped connection', async (t) => {
  const installPath = (name: string) =>
    `/appmanagement/environments/${DEMO_ENVIRONMENTS.sales}/applicationPackages/${name}/install?api-version=1`;
  sim.control.addFault({ route: 'ppapi.install', kind: 'status', status: 503, after: true, times: 1 });
  const lost = await call(sim, 'POST', installPath('msdyn_ContosoSurveysAnchor'), { token: ppapi });
  t.equal(lost.status, 503);
  t.same(lost.json, { code: 'UnexpectedError', message: 'An unexpected error occurred.' });
  t.notOk(lost.headers['operation-location'], 'no operation URL leaks out');
  t.equal(
    sim.control.packageState(DEMO_ENVIRONMENTS.sales, 'msdyn_ContosoSurveysAnchor'),
    'InstallRequested',
    'but the install started',
  );
  sim.control.advanceClock(60_000);

  sim.control.addFault({ route: 'ppapi.install', kind: 'reset', after: true, times: 1 });
  await t.rejects(call(sim, 'POST', installPath('msdyn_FieldInspectionsAnchor'), { token: ppapi }));
  t.equal(
    sim.control.packageState(DEMO_ENVIRONMENTS.sales, 'msdyn_FieldInspectionsAnchor'),
    'InstallRequested',
  );
  t.same(
    sim.control.calls({ route: 'ppapi.install' }).map((c) => c.status),
    [503, 0],
  );

  sim.control.addFault({ route: 'bap.isolation.put', kind: 'status', status: 500, after: true, times: 1 });
  const body = { properties: { tenantId: sim.tenantId, isDisabled: true, allowedTenants: [] } };
  t.equal((await call(sim, 'PUT', policyPath, { token: bap, body })).status, 500);
  t.same(sim.control.getPolicy(), body, 'the policy was stored anyway');
});

t.test('probability draws from a seeded PRNG: the same after every reset', async (t) => {
  const run = async () => {
    sim.control.reset();
    sim.control.addFault({ route: 'bap.tenant', kind: 'status', status: 500, probability: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 16; i++) {
      statuses.push(
        (await call(sim, 'GET', '/providers/Microsoft.BusinessAppPlatform/tenant', { token: bap })).status,
      );
    }
    return statuses;
  };
  const first = await run();
  t.same(await run(), first);
  t.ok(first.includes(500) && first.includes(200), 'some fire, some do not');
});

t.test('outsideWriter on PUT: the read-back shows another rule; on GET: the copy is stale', async (t) => {
  sim.control.addFault({ route: 'bap.isolation.put', kind: 'outsideWriter', times: 1 });
  const body = {
    properties: {
      tenantId: sim.tenantId,
      isDisabled: false,
      allowedTenants: [{ tenantId: '*', direction: { inbound: true, outbound: false } }],
    },
  };
  const put = await call(sim, 'PUT', policyPath, { token: bap, body });
  t.same(put.json, body, 'the PUT answers with what it stored');
  const after = (await call(sim, 'GET', policyPath, { token: bap })).json as Policy;
  t.equal(after.properties.allowedTenants.length, 2, 'another admin added a rule right after');
  t.equal(sim.control.policyRevision(), 2);

  sim.control.addFault({
    route: 'bap.isolation.get',
    kind: 'outsideWriter',
    mutate: 'toggleEnabled',
    times: 1,
  });
  const read = (await call(sim, 'GET', policyPath, { token: bap })).json as Policy;
  t.equal(read.properties.isDisabled, false);
  t.equal((sim.control.getPolicy() as Policy).properties.isDisabled, true, 'changed behind the reader');
});

t.test('call log: order, method/route filters, x-ms-client-request-id', async (t) => {
  await call(sim, 'GET', listPath, { token: ppapi, headers: { 'x-ms-client-request-id': 'req-1' } });
  await call(sim, 'GET', policyPath, { token: bap, headers: { 'x-ms-client-request-id': 'req-2' } });
  await call(sim, 'GET', '/nothing/here');
  const all = sim.control.calls();
  t.same(
    all.map((c) => c.route),
    ['ppapi.listPackages', 'bap.isolation.get', 'other'],
  );
  t.equal(all[0]!.clientRequestId, 'req-1');
  t.equal(all[0]!.path, `/appmanagement/environments/${DEMO_ENVIRONMENTS.sales}/applicationPackages`);
  t.equal(all[2]!.status, 404);
  t.same(
    sim.control.calls({ route: 'bap.isolation.get' }).map((c) => c.clientRequestId),
    ['req-2'],
  );
  t.equal(sim.control.calls({ method: 'post' }).length, 0);
  const body = { properties: { tenantId: sim.tenantId, isDisabled: false, allowedTenants: [] } };
  await call(sim, 'PUT', policyPath, { token: bap, body });
  t.same(sim.control.calls({ route: 'bap.isolation.put' })[0]!.body, body, 'write bodies are recorded');
  t.notOk(
    sim.control.calls({ route: 'entra.token' }).some((c) => c.body),
    'token requests are not',
  );
});

t.test('HTTP control API mirrors control', async (t) => {
  const added = await call(sim, 'POST', '/_simulator/faults', {
    body: { route: 'bap.tenant', kind: 'status', status: 503, times: 1 },
  });
  t.equal(added.status, 201);
  t.ok(added.json.id);
  t.equal((await call(sim, 'GET', '/_simulator/faults')).json.value.length, 1);
  t.equal(
    (await call(sim, 'POST', '/_simulator/faults', { body: { route: '*', kind: 'explode' } })).status,
    400,
  );
  t.equal(
    (await call(sim, 'GET', '/providers/Microsoft.BusinessAppPlatform/tenant', { token: bap })).status,
    503,
  );
  const calls = await call(sim, 'GET', '/_simulator/calls?route=bap.tenant');
  t.same(
    calls.json.value.map((c: { status: number }) => c.status),
    [503],
  );

  const minted = await call(sim, 'POST', '/_simulator/tokens', {
    body: {
      audience: 'https://service.powerapps.com/',
      upn: 'admin@contoso.onmicrosoft.com',
      scp: 'user_impersonation',
    },
  });
  t.equal(
    (
      await call(sim, 'GET', '/providers/Microsoft.BusinessAppPlatform/tenant', {
        token: minted.json.access_token,
      })
    ).status,
    200,
  );

  const options = await call(sim, 'PUT', '/_simulator/options', { body: { pageSize: 3, busyStatus: 400 } });
  t.equal(options.json.pageSize, 3);
  t.equal((await call(sim, 'PUT', '/_simulator/options', { body: { nope: 1 } })).status, 400);
  const badValue = await call(sim, 'PUT', '/_simulator/options', { body: { isolationPut: 'sometimes' } });
  t.equal(badValue.status, 400);
  t.match(badValue.json.error.message, /isolationPut must be one of/);
  t.throws(() => sim.control.setOption('pageSize', 0), /pageSize must be a whole number/);
  t.equal((await call(sim, 'GET', listPath, { token: ppapi })).json.value.length, 3);

  await call(sim, 'PUT', `/_simulator/policies/${sim.tenantId}`, {
    body: { properties: { isDisabled: true, allowedTenants: [] } },
  });
  const viaHttp = await call(sim, 'GET', `/_simulator/policies/${sim.tenantId}`);
  t.equal(viaHttp.json.policy.properties.isDisabled, true);
  t.equal(viaHttp.json.revision, 1);

  const install = await call(
    sim,
    'POST',
    `/appmanagement/environments/${DEMO_ENVIRONMENTS.sales}/applicationPackages/msdyn_ContosoSurveysAnchor/install?api-version=1`,
    { token: ppapi },
  );
  t.equal(install.status, 202);
  await call(sim, 'POST', '/_simulator/clock/advance', { body: { ms: 60_000 } });
  const state = await call(
    sim,
    'GET',
    `/_simulator/environments/${DEMO_ENVIRONMENTS.sales}/packages/msdyn_ContosoSurveysAnchor`,
  );
  t.equal(state.json.state, 'Installed');

  t.equal((await call(sim, 'POST', '/_simulator/reset')).status, 204);
  t.equal(sim.control.calls().length, 0);
  t.equal((await call(sim, 'GET', '/_simulator/options')).json.pageSize, 50);
  t.equal(sim.control.policyRevision(), 0);
  t.equal(sim.control.packageState(DEMO_ENVIRONMENTS.sales, 'msdyn_ContosoSurveysAnchor'), 'None');
});

t.test('a seed file sets the catalog, faults and behaviour', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-seed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'seed.json');
  writeFileSync(
    file,
    JSON.stringify({
      environments: [
        {
          id: 'e1e1e1e1-0000-4000-8000-000000000001',
          displayName: 'Only',
          dataverseUrl: 'https://only.crm.dynamics.com/',
        },
      ],
      packages: [
        {
          id: 'p1p1p1p1-0000-4000-8000-000000000001',
          uniqueName: 'OnlyPackage',
          version: '1.0.0.0',
          localizedName: 'Only',
          applicationId: 'a1a1a1a1-0000-4000-8000-000000000001',
          publisherName: 'Me',
          publisherId: 'b1b1b1b1-0000-4000-8000-000000000001',
        },
      ],
      isolationPolicy: null,
      faults: [{ route: 'bap.tenant', kind: 'status', status: 429, retryAfter: '1', times: 1 }],
      behaviour: { neverConfiguredResponse: 'null', isolationPut: 'async' },
    }),
  );
  const seeded = await startSimulator({ seed: file });
  t.teardown(() => closeAll(seeded));
  const token = await appToken(seeded, BAP_SCOPE);
  t.equal(
    (await call(seeded, 'GET', '/providers/Microsoft.BusinessAppPlatform/tenant', { token })).status,
    429,
  );
  t.equal(
    (await call(seeded, 'GET', '/providers/Microsoft.BusinessAppPlatform/tenant', { token })).status,
    200,
  );
  const policy = await call(
    seeded,
    'GET',
    `/providers/PowerPlatform.Governance/v1/tenants/${seeded.tenantId}/tenantIsolationPolicy`,
    { token },
  );
  t.equal(policy.text, 'null');
  const pp = await appToken(seeded, PPAPI_SCOPE);
  const list = await call(
    seeded,
    'GET',
    '/appmanagement/environments/e1e1e1e1-0000-4000-8000-000000000001/applicationPackages?api-version=1',
    { token: pp },
  );
  t.same(
    list.json.value.map((p: { uniqueName: string }) => p.uniqueName),
    ['OnlyPackage'],
  );
  seeded.control.reset();
  t.equal(
    (await call(seeded, 'GET', '/providers/Microsoft.BusinessAppPlatform/tenant', { token })).status,
    429,
    'reset re-applies the seed faults',
  );

  await t.rejects(startSimulator({ seed: join(dir, 'missing.json') }), /could not be read/);
  await t.rejects(
    startSimulator({ seed: { ...defaultSeed(), behaviour: { busyStatus: 418 as never } } }),
    /busyStatus must be one of/,
  );
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ tenantId: 'contoso' }));
  await t.rejects(startSimulator({ seed: join(dir, 'bad.json') }), /tenantId must be a GUID/);
  await t.rejects(
    startSimulator({ seed: { ...defaultSeed(), packages: [{ uniqueName: 'x' }] as never } }),
    /needs a string id/,
  );
});

t.test('replay answers with exactly the status, headers and body given, on the path given', async (t) => {
  const salesPath = `/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/${DEMO_ENVIRONMENTS.sales}`;
  sim.control.addFault({
    route: 'bap.environment',
    kind: 'replay',
    path: salesPath,
    status: 200,
    headers: { 'x-ms-correlation-id': 'c0rre1a7-0000-4000-8000-000000000001' },
    body: { name: DEMO_ENVIRONMENTS.sales, properties: { linkedEnvironmentMetadata: null } },
    times: 1,
  });
  const replayed = await call(sim, 'GET', `${salesPath}?api-version=2023-06-01`, { token: bap });
  t.equal(replayed.status, 200);
  t.same(replayed.json, { name: DEMO_ENVIRONMENTS.sales, properties: { linkedEnvironmentMetadata: null } });
  t.equal(replayed.headers['x-ms-correlation-id'], 'c0rre1a7-0000-4000-8000-000000000001');
  const after = await call(sim, 'GET', `${salesPath}?api-version=2023-06-01`, { token: bap });
  t.not(after.json.properties.linkedEnvironmentMetadata, null, 'times: 1, then the route again');

  sim.control.addFault({ route: 'bap.environment', kind: 'replay', path: '/elsewhere', status: 500 });
  t.equal((await call(sim, 'GET', `${salesPath}?api-version=2023-06-01`, { token: bap })).status, 200, 'another path is not replayed');
  sim.control.addFault({ route: 'ppapi.install', kind: 'replay', status: 202, headers: { 'operation-location': 'https://x.example/operations/1' } });
  const empty = await call(sim, 'POST', `/appmanagement/environments/${DEMO_ENVIRONMENTS.sales}/applicationPackages/MicrosoftFormsPro/install?api-version=1`, { token: ppapi });
  t.equal(empty.status, 202);
  t.equal(empty.text, '', 'no body given: an empty body');
  t.throws(() => sim.control.addFault({ route: '*', kind: 'replay', status: 200, after: true }), /after is not supported/);
});
