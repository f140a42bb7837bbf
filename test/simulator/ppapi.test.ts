import t from 'tap';
import { DEMO_ENVIRONMENTS, startSimulator } from '../../src/simulator/index.js';
import { appToken, BAP_SCOPE, call, closeAll, PPAPI_SCOPE } from './helpers.js';

// Time is frozen (tiny speed) and stepped with advanceClock, so every state is observed deterministically.
const sim = await startSimulator({ speed: 1e-9 });
t.teardown(() => closeAll(sim));
const token = await appToken(sim, PPAPI_SCOPE);
const env: string = DEMO_ENVIRONMENTS.sales;
const V = 'api-version=2024-10-01';
const list = (e: string, query = '') =>
  call(sim, 'GET', `/appmanagement/environments/${e}/applicationPackages?${V}${query}`, { token });
const install = (name: string, e = env) =>
  call(sim, 'POST', `/appmanagement/environments/${e}/applicationPackages/${name}/install?${V}`, { token });
const operation = (id: string, e = env) =>
  call(sim, 'GET', `/appmanagement/environments/${e}/operations/${id}?api-version=1`, { token });

/** The operation id of an install answer: from Operation-Location (the default, empty body) or the body. */
const opIdOf = (res: Awaited<ReturnType<typeof install>>): string =>
  /\/operations\/([0-9a-f-]{36})/.exec(String(res.headers['operation-location'] ?? ''))?.[1] ?? res.json.lastOperation.operationId;

t.beforeEach(() => sim.control.reset());

t.test('no token → 401 with WWW-Authenticate; wrong audience → 401; missing api-version → 400', async (t) => {
  const none = await call(sim, 'GET', `/appmanagement/environments/${env}/applicationPackages?${V}`);
  t.equal(none.status, 401);
  t.match(none.headers['www-authenticate'], /^Bearer /);
  t.ok(none.json.code, 'flat PPAPI error body');

  const bapToken = await appToken(sim, BAP_SCOPE);
  const wrongAud = await call(sim, 'GET', `/appmanagement/environments/${env}/applicationPackages?${V}`, {
    token: bapToken,
  });
  t.equal(wrongAud.status, 401);
  t.match(wrongAud.headers['www-authenticate'], /invalid_token/);

  const noVersion = await call(sim, 'GET', `/appmanagement/environments/${env}/applicationPackages`, {
    token,
  });
  t.equal(noVersion.status, 400);
  t.equal(noVersion.json.code, 'MissingApiVersionParameter');

  const anyVersion = await call(
    sim,
    'GET',
    `/appmanagement/environments/${env}/applicationPackages?api-version=2022-03-01-preview`,
    { token },
  );
  t.equal(anyVersion.status, 200, 'any non-empty api-version is accepted');
});

t.test('environment list: wire field names, filters, newer version of an installed package', async (t) => {
  const all = await list(env);
  t.equal(all.status, 200);
  t.notOk(all.json['@odata.nextLink'], 'one page at the default page size');
  const first = all.json.value[0];
  for (const field of [
    'id',
    'uniqueName',
    'version',
    'localizedName',
    'applicationId',
    'publisherName',
    'crmMinversion',
    'state',
    'instancePackageId',
    'errorDetails',
    'supportedCountries',
  ]) {
    t.ok(field in first, `has ${field}`);
  }
  t.notOk('lastError' in first, 'the wire name is errorDetails');

  const installed = await list(env, '&appInstallState=Installed');
  t.same(installed.json.value.map((p: { uniqueName: string }) => p.uniqueName).sort(), [
    'MicrosoftFormsPro',
    'msdyn_AppDeploymentAnchor',
  ]);
  t.ok(
    installed.json.value.every(
      (p: { state: string; instancePackageId: string }) => p.state === 'Installed' && p.instancePackageId,
    ),
  );

  const notInstalled = await list(env, '&appInstallState=NotInstalled');
  const anchor = notInstalled.json.value.filter(
    (p: { uniqueName: string }) => p.uniqueName === 'msdyn_AppDeploymentAnchor',
  );
  t.equal(anchor.length, 1, 'the newer version is listed under the same uniqueName');
  t.equal(anchor[0].version, '2.1.0.8');
  t.equal(anchor[0].state, 'None');
  t.notOk(
    notInstalled.json.value.some((p: { uniqueName: string }) => p.uniqueName === 'MicrosoftFormsPro'),
    'up to date: not offered again',
  );
  t.equal(
    all.json.value.length,
    installed.json.value.length + notInstalled.json.value.length,
    'All = Installed + NotInstalled',
  );

  const bad = await list(env, '&appInstallState=Sometimes');
  t.equal(bad.status, 400);
});

t.test('lcid picks localized text when the package has it', async (t) => {
  const fr = await list(env, '&lcid=1036');
  const surveys = fr.json.value.find(
    (p: { uniqueName: string }) => p.uniqueName === 'msdyn_ContosoSurveysAnchor',
  );
  t.equal(surveys.localizedName, 'Enquêtes Contoso');
  const en = await list(env, '&lcid=1033');
  t.equal(
    en.json.value.find((p: { uniqueName: string }) => p.uniqueName === 'msdyn_ContosoSurveysAnchor')
      .localizedName,
    'Contoso Surveys',
  );
});

t.test('paging: absolute @odata.nextLink keeps the filters until the last page', async (t) => {
  sim.control.setOption('pageSize', 2);
  const seen: string[] = [];
  let url: string | undefined =
    `/appmanagement/environments/${env}/applicationPackages?${V}&appInstallState=All&lcid=1033`;
  let pages = 0;
  while (url) {
    const res = await call(sim, 'GET', url, { token });
    t.equal(res.status, 200);
    t.ok(res.json.value.length <= 2);
    seen.push(
      ...res.json.value.map((p: { uniqueName: string; version: string }) => `${p.uniqueName}@${p.version}`),
    );
    url = res.json['@odata.nextLink'];
    if (url) {
      t.match(url, new RegExp(`^${sim.origin.replace(/\./g, '\\.')}/appmanagement/`), 'absolute URL');
      t.match(url, /appInstallState=All/);
    }
    pages += 1;
  }
  t.equal(pages, 4, '8 rows in pages of 2');
  t.equal(new Set(seen).size, seen.length, 'no row twice');

  const tenant = await call(sim, 'GET', `/appmanagement/applicationPackages?${V}`, { token });
  t.equal(tenant.json.value.length, 2);
  t.ok(tenant.json['@odata.nextLink']);
});

t.test('tenant package list has the hex errorCode', async (t) => {
  sim.control.setOption('pageSize', 100);
  const res = await call(sim, 'GET', `/appmanagement/applicationPackages?${V}`, { token });
  t.equal(res.status, 200);
  const retired = res.json.value.find(
    (p: { uniqueName: string }) => p.uniqueName === 'msdyn_RetiredKioskAnchor',
  );
  t.equal(retired.errorDetails.errorCode, '0x80040216');
  t.equal(retired.errorDetails.statusCode, 404);
  t.notOk('state' in retired, 'tenant entries have no state');
});

t.test(
  'install (202 + Operation-Location, empty body): NotStarted → Running → Succeeded, package state follows',
  async (t) => {
    const res = await install('msdyn_ContosoSurveysAnchor');
    t.equal(res.status, 202);
    const location = res.headers['operation-location'] ?? '';
    t.match(
      location,
      new RegExp(`/appmanagement/environments/${env}/operations/[0-9a-f-]{36}\\?api-version=1$`),
    );
    t.equal(res.text, '', 'no body, as captured');
    const opId = opIdOf(res);
    t.equal(sim.control.packageState(env, 'msdyn_ContosoSurveysAnchor'), 'InstallRequested');

    const s1 = await call(sim, 'GET', location, { token });
    t.equal(s1.json.status, 'NotStarted');
    t.equal(s1.json.lastActionDateTime, null);
    t.equal(s1.json.operationId, opId);

    sim.control.advanceClock(1500);
    t.equal((await operation(opId)).json.status, 'Running');
    t.equal(sim.control.packageState(env, 'msdyn_ContosoSurveysAnchor'), 'Installing');
    const installing = await list(env, '&appInstallState=Installed');
    t.ok(
      installing.json.value.some(
        (p: { uniqueName: string; state: string }) =>
          p.uniqueName === 'msdyn_ContosoSurveysAnchor' && p.state === 'Installing',
      ),
    );

    sim.control.advanceClock(4000);
    const done = await operation(opId);
    t.equal(done.json.status, 'Succeeded');
    t.notOk('error' in done.json, 'no error key on success, as captured');
    t.equal(done.json.statusMessage, '');
    t.ok(Date.parse(done.json.lastActionDateTime) > Date.parse(done.json.createdDateTime));
    t.equal(sim.control.packageState(env, 'msdyn_ContosoSurveysAnchor'), 'Installed');
  },
);

t.test('install body styles: header with a body, 200 and 202 with lastOperation.operationId, no header', async (t) => {
  sim.control.setOption('installResponse', 'operation-location-with-body');
  sim.control.setOption('installBodyEmptyText', 'null');
  sim.control.setOption('succeededOperationError', 'null');
  const withBody = await install('msdyn_ContosoSurveysAnchor');
  t.equal(withBody.status, 202);
  t.equal(withBody.json.lastOperation.state, 'InstallRequested');
  t.ok(String(withBody.headers['operation-location']).includes(withBody.json.lastOperation.operationId), 'header and body agree');
  t.equal(withBody.json.applicationDescription, null, 'the null style on request');
  sim.control.advanceClock(10_000);
  const ended = await operation(withBody.json.lastOperation.operationId);
  t.equal(ended.json.status, 'Succeeded');
  t.equal(ended.json.error, null, 'error: null on success on request');

  sim.control.setOption('installResponse', 'body-200');
  sim.control.setOption('installBodyEmptyText', 'empty-string');
  const a = await install('msdyn_FieldInspectionsAnchor');
  t.equal(a.status, 200);
  t.notOk(a.headers['operation-location']);
  t.match(a.json.lastOperation.operationId, /^[0-9a-f-]{36}$/);
  t.equal(a.json.applicationDescription, '', 'empty text as in the Learn capture');
  t.equal(a.json.singlePageApplicationUrl, '');
  sim.control.advanceClock(10_000);

  sim.control.setOption('installResponse', 'body-202');
  const b = await install('ContosoExpenseApprovals');
  t.equal(b.status, 202);
  t.notOk(b.headers['operation-location']);
  t.equal((await operation(b.json.lastOperation.operationId)).json.status, 'NotStarted');
  sim.control.advanceClock(10_000);

  sim.control.setOption('installResponse', 'bare-202');
  const c = await install('msdyn_PortalMigrationTool');
  t.equal(c.status, 202);
  t.equal(c.text, '', 'no body');
  t.notOk(c.headers['operation-location']);
  t.equal(
    sim.control.packageState(env, 'msdyn_PortalMigrationTool'),
    'InstallRequested',
    'the list shows it started',
  );
});

t.test(
  'a failing install ends Failed with the upstream error; the package shows InstallFailed',
  async (t) => {
    const res = await install('msdyn_SalesInsightsAddOn');
    sim.control.advanceClock(60_000);
    const op = await operation(opIdOf(res));
    t.equal(op.json.status, 'Failed');
    t.equal(op.json.error.message, 'Missing dependency msdyn_Base');
    t.equal(typeof op.json.error.errorCode, 'number');
    const row = (await list(env, '&appInstallState=Installed')).json.value.find(
      (p: { uniqueName: string }) => p.uniqueName === 'msdyn_SalesInsightsAddOn',
    );
    t.equal(row.state, 'InstallFailed');
    t.equal(row.errorDetails.errorName, 'SolutionImportFailed');
  },
);

t.test('a canceled install ends Canceled and the package returns to its previous state', async (t) => {
  const res = await install('msdyn_PortalMigrationTool');
  sim.control.advanceClock(60_000);
  t.equal((await operation(opIdOf(res))).json.status, 'Canceled');
  t.equal(sim.control.packageState(env, 'msdyn_PortalMigrationTool'), 'None');
});

t.test('unknown name or applicationId → 400 "not found"; busy environment → 409 or 400', async (t) => {
  const unknown = await install('NoSuchPackage');
  t.equal(unknown.status, 400);
  t.same(unknown.json, { code: 'BadRequest', message: 'Package requested for installation was not found' });
  const byAppId = await install('a9b8c7d6-e5f4-4321-8765-0fedcba98765');
  t.equal(byAppId.json.message, 'Package requested for installation was not found');

  t.equal((await install('msdyn_ContosoSurveysAnchor')).status, 202);
  const busy = await install('msdyn_FieldInspectionsAnchor');
  t.equal(busy.status, 409);
  t.match(busy.json.message, /in progress/);
  sim.control.setOption('busyStatus', 400);
  t.equal((await install('msdyn_FieldInspectionsAnchor')).status, 400);
  t.equal(
    (await install('msdyn_FieldInspectionsAnchor', DEMO_ENVIRONMENTS.default)).status,
    202,
    'other environments are free',
  );
  sim.control.advanceClock(60_000);
  t.equal((await install('msdyn_FieldInspectionsAnchor')).status, 202, 'free again once the first ended');
});

t.test('environment without Dataverse, unknown environment, unknown operation', async (t) => {
  const teams = await list(DEMO_ENVIRONMENTS.teams);
  t.equal(teams.status, 400);
  t.equal(teams.json.code, 'DataverseNotFound');
  t.equal((await install('msdyn_ContosoSurveysAnchor', DEMO_ENVIRONMENTS.teams)).status, 400);
  const nowhere = await list('00000000-0000-4000-8000-000000000000');
  t.equal(nowhere.status, 404);
  t.equal((await operation('00000000-0000-4000-8000-000000000000')).status, 404);
  t.equal((await operation('not-a-guid')).status, 400);
});

t.test('the clock runs on its own at a high speed', async (t) => {
  sim.control.setSpeed(200);
  const res = await install('msdyn_ContosoSurveysAnchor');
  const statuses: string[] = [];
  for (let i = 0; i < 200; i++) {
    const s = (await operation(opIdOf(res))).json.status;
    if (statuses.at(-1) !== s) statuses.push(s);
    if (s === 'Succeeded') break;
    await new Promise((r) => setTimeout(r, 5));
  }
  t.equal(statuses.at(-1), 'Succeeded');
  const order = ['NotStarted', 'Running', 'Succeeded'];
  t.same(
    statuses,
    [...statuses].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
    'never goes backwards',
  );
});
