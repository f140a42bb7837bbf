// ListPackages and GetPackage over HTTP against the simulator: the normalised model, filters,
// search, every page followed, lcid, updateAvailable, and 404s that name the right unique name.
import t from 'tap';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/seed.js';
import { startStack } from '../helpers/stack.js';

const ENV = DEMO_ENVIRONMENTS.sales;
const pkgs = `/v1/environments/${ENV}/packages`;

t.test('packages', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  type Pkg = { uniqueName: string; installed: boolean; updateAvailable: boolean; version: string; availableVersion: string | null; displayName: string; state: string };
  const names = (body: { value: Pkg[] }) => body.value.map((p) => p.uniqueName).sort();

  t.test('the list is normalised, one entry per package, update derived', async (t) => {
    const res = await stack.request('GET', pkgs);
    t.equal(res.status, 200);
    const all: Pkg[] = res.body.value;
    t.equal(all.length, 7);
    t.equal(new Set(all.map((p) => p.uniqueName)).size, all.length, 'no duplicates');
    const app = all.find((p) => p.uniqueName === 'msdyn_AppDeploymentAnchor')!;
    t.match(app, { installed: true, state: 'Installed', version: '2.0.0.3', updateAvailable: true, availableVersion: '2.1.0.8', displayName: 'App Deployment' });
    t.match(all.find((p) => p.uniqueName === 'MicrosoftFormsPro'), { installed: true, updateAvailable: false });
    t.match(all.find((p) => p.uniqueName === 'msdyn_ContosoSurveysAnchor'), {
      installed: false,
      state: 'None',
      publisherName: 'Microsoft Dynamics 365',
      applicationId: 'a9b8c7d6-e5f4-4321-8765-0fedcba98765',
      error: null,
    });
  });

  t.test('state filters', async (t) => {
    const installed = await stack.request('GET', `${pkgs}?state=Installed`);
    t.same(names(installed.body), ['MicrosoftFormsPro', 'msdyn_AppDeploymentAnchor']);
    t.ok(installed.body.value.find((p: Pkg) => p.uniqueName === 'msdyn_AppDeploymentAnchor').updateAvailable, 'updateAvailable on the Installed list too');
    const notInstalled = await stack.request('GET', `${pkgs}?state=NotInstalled`);
    t.ok(names(notInstalled.body).includes('msdyn_AppDeploymentAnchor'), 'the newer version of an installed package is offered');
    t.notOk(names(notInstalled.body).includes('MicrosoftFormsPro'));
    const bad = await stack.request('GET', `${pkgs}?state=Everything`);
    t.equal(bad.status, 400);
    t.equal(bad.body.error.code, 'InvalidRequest');
  });

  t.test('search over unique name, display name and publisher', async (t) => {
    t.same(names((await stack.request('GET', `${pkgs}?search=surveys`)).body), ['msdyn_ContosoSurveysAnchor']);
    t.same(names((await stack.request('GET', `${pkgs}?search=contoso%20ltd`)).body), ['ContosoExpenseApprovals']);
    t.same(names((await stack.request('GET', `${pkgs}?search=formspro`)).body), ['MicrosoftFormsPro']);
  });

  t.test('every upstream page is followed', async (t) => {
    const before = stack.sim.control.calls({ route: 'ppapi.listPackages' }).length;
    stack.sim.control.setOption('pageSize', 2);
    const paged = await stack.request('GET', pkgs);
    stack.sim.control.setOption('pageSize', 50);
    t.equal(paged.body.value.length, 7);
    t.ok(stack.sim.control.calls({ route: 'ppapi.listPackages' }).length - before >= 4, 'several pages were read');
  });

  t.test('lcid picks the language', async (t) => {
    const fr = await stack.request('GET', `${pkgs}/msdyn_ContosoSurveysAnchor?lcid=1036`);
    t.equal(fr.status, 200);
    t.equal(fr.body.displayName, 'Enquêtes Contoso');
    t.equal((await stack.request('GET', `${pkgs}?lcid=english`)).status, 400);
  });

  t.test('GetPackage: exact, and another case of the same name', async (t) => {
    const res = await stack.request('GET', `${pkgs}/MicrosoftFormsPro`);
    t.equal(res.status, 200);
    t.match(res.body, { uniqueName: 'MicrosoftFormsPro', installed: true });
    const lower = await stack.request('GET', `${pkgs}/microsoftformspro`);
    t.equal(lower.body.uniqueName, 'MicrosoftFormsPro');
  });

  t.test('a wrong name gets a 404 that suggests the closest unique names', async (t) => {
    const res = await stack.request('GET', `${pkgs}/msdyn_ContosoSurvey`);
    t.equal(res.status, 404);
    t.equal(res.body.error.code, 'PackageNotFound');
    t.match(res.body.error.message, /Did you mean "msdyn_ContosoSurveysAnchor"/);
    t.same(res.body.error.details.suggestions[0], 'msdyn_ContosoSurveysAnchor');
    const partial = await stack.request('GET', `${pkgs}/Inspections`);
    t.match(partial.body.error.details.suggestions, ['msdyn_FieldInspectionsAnchor']);
  });

  t.test('a display name or application id given by mistake is recognised', async (t) => {
    const byDisplay = await stack.request('GET', `${pkgs}/${encodeURIComponent('Dynamics 365 Customer Voice')}`);
    t.equal(byDisplay.status, 404);
    t.match(byDisplay.body.error.message, /display name.*unique name "MicrosoftFormsPro"/);
    const byId = await stack.request('GET', `${pkgs}/a9b8c7d6-e5f4-4321-8765-0fedcba98765`);
    t.match(byId.body.error.message, /application id.*"msdyn_ContosoSurveysAnchor"/);
  });

  t.test('installs with a wrong name fail before any POST, naming the right one', async (t) => {
    const posts = () => stack.sim.control.calls({ route: 'ppapi.install' }).length;
    const before = posts();
    const display = await stack.request('POST', `${pkgs}/${encodeURIComponent('Contoso Surveys')}/install`);
    t.equal(display.status, 404);
    t.match(display.body.error.message, /use the unique name "msdyn_ContosoSurveysAnchor"/);
    const typo = await stack.request('POST', `${pkgs}/msdyn_FieldInspection/install`);
    t.equal(typo.status, 404);
    t.match(typo.body.error.message, /msdyn_FieldInspectionsAnchor/);
    const notOffered = await stack.request('POST', `${pkgs}/msdyn_RetiredKioskAnchor/install`);
    t.equal(notOffered.status, 404, 'a package this environment does not offer');
    t.match(notOffered.body.error.message, /does not offer/);
    t.equal(posts(), before, 'no POST for any of them');
  });
});
