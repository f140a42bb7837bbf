import t from 'tap';
import { compareVersions, normalisePackages, searchPackages } from '../../src/installs/package-model.js';
import { closestNames, levenshtein, lookupPackage, packageNotFoundMessage } from '../../src/installs/package-suggestions.js';
import type { RawApplicationPackage } from '../../src/upstream/types.js';

const raw: RawApplicationPackage[] = [
  { uniqueName: 'msdyn_AppDeploymentAnchor', version: '2.0.0.3', state: 'Installed', localizedName: 'App Deployment', publisherName: 'Microsoft Dynamics 365', applicationId: 'b6c7d8e9-f0a1-4b2c-9d4e-5f6a7b8c9d0e' },
  { uniqueName: 'msdyn_AppDeploymentAnchor', version: '2.1.0.8', state: 'None', localizedName: 'App Deployment', publisherName: 'Microsoft Dynamics 365' },
  { uniqueName: 'msdyn_ContosoSurveysAnchor', version: '3.1.0.12', state: 'None', localizedName: 'Contoso Surveys', publisherName: 'Microsoft Dynamics 365', applicationId: 'a9b8c7d6-e5f4-4321-8765-0fedcba98765', id: '5d1f0c3e-8a47-4b61-9a2e-0f6b1c2d3e4f' },
  { uniqueName: 'MicrosoftFormsPro', version: '1.0.2.0', state: 'Installed', localizedName: 'Dynamics 365 Customer Voice', publisherName: 'Microsoft Dynamics 365' },
  { uniqueName: 'ContosoExpenseApprovals', version: '2.0.0.45', state: 'InstallFailed', localizedName: 'Expense Approvals', publisherName: 'Contoso Ltd', errorDetails: { errorCode: '0x80040216', errorName: 'X', message: 'broke', source: 'Dataverse' } },
];

t.test('versions compare numerically, part by part', async (t) => {
  t.ok(compareVersions('2.0.0.45', '2.0.0.100') < 0);
  t.ok(compareVersions('2.1', '2.0.9.9') > 0);
  t.equal(compareVersions('1.0', '1.0.0.0'), 0);
  t.ok(compareVersions(null, '1.0') < 0);
});

t.test('updateAvailable is derived from a newer NotInstalled entry of an installed package', async (t) => {
  const installed = normalisePackages(raw, 'Installed');
  t.same(installed.map((p) => [p.uniqueName, p.updateAvailable, p.availableVersion]), [
    ['msdyn_AppDeploymentAnchor', true, '2.1.0.8'],
    ['MicrosoftFormsPro', false, null],
  ]);
  const notInstalled = normalisePackages(raw, 'NotInstalled').map((p) => p.uniqueName);
  t.same(notInstalled, ['msdyn_AppDeploymentAnchor', 'msdyn_ContosoSurveysAnchor', 'ContosoExpenseApprovals']);
});

t.test('All lists each unique name once, preferring the installed entry', async (t) => {
  const all = normalisePackages(raw, 'All');
  t.equal(all.length, 4);
  const app = all.find((p) => p.uniqueName === 'msdyn_AppDeploymentAnchor')!;
  t.equal(app.installed, true);
  t.equal(app.version, '2.0.0.3');
  t.equal(app.updateAvailable, true);
  const failed = all.find((p) => p.uniqueName === 'ContosoExpenseApprovals')!;
  t.same(failed.error, { code: '0x80040216', name: 'X', message: 'broke', source: 'Dataverse' });
});

t.test('search covers unique name, display name and publisher, case-insensitively', async (t) => {
  const all = normalisePackages(raw, 'All');
  t.same(searchPackages(all, 'surveys').map((p) => p.uniqueName), ['msdyn_ContosoSurveysAnchor']);
  t.same(searchPackages(all, 'CONTOSO LTD').map((p) => p.uniqueName), ['ContosoExpenseApprovals']);
  t.same(searchPackages(all, 'customer voice').map((p) => p.uniqueName), ['MicrosoftFormsPro']);
  t.equal(searchPackages(all, '').length, 4);
});

t.test('lookup: exact, other case, display name, application id, typo', async (t) => {
  t.same(lookupPackage('MicrosoftFormsPro', raw), { kind: 'found', uniqueName: 'MicrosoftFormsPro' });
  t.same(lookupPackage('microsoftformspro', raw), { kind: 'found', uniqueName: 'MicrosoftFormsPro' });
  t.match(lookupPackage('Contoso Surveys', raw), { kind: 'displayName', uniqueName: 'msdyn_ContosoSurveysAnchor' });
  t.match(lookupPackage('A9B8C7D6-E5F4-4321-8765-0FEDCBA98765', raw), { kind: 'applicationId', uniqueName: 'msdyn_ContosoSurveysAnchor' });
  const typo = lookupPackage('msdyn_ContosoSurvey', raw);
  t.equal(typo.kind, 'missing');
  t.same(typo.kind === 'missing' && typo.suggestions[0], 'msdyn_ContosoSurveysAnchor');
  t.same(closestNames('zzzzzzzzzzzzzzzzzzzz', raw), []);
  t.match(packageNotFoundMessage('msdyn_ContosoSurvey', 'env-1', typo), /Did you mean "msdyn_ContosoSurveysAnchor"/);
  t.match(packageNotFoundMessage('Contoso Surveys', 'env-1', lookupPackage('Contoso Surveys', raw)), /display name.*"msdyn_ContosoSurveysAnchor"/);
});

t.test('levenshtein', async (t) => {
  t.equal(levenshtein('kitten', 'sitting'), 3);
  t.equal(levenshtein('', 'abc'), 3);
  t.equal(levenshtein('same', 'same'), 0);
});
