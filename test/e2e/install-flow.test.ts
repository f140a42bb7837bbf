// A maker's install flow, run the way the flow engine runs it, through the definition the relay
// serves: list environments → list packages → install and wait → success; the same install again
// → already installed; a failing package → the action fails with the upstream message.
import t from 'tap';
import { type Stack, startStack } from '../helpers/stack.js';
import { FlowEngine, LOGIC_APPS_DEFAULT_RETRY } from './flow-engine.js';

const stack: Stack = await startStack();
t.teardown(() => stack.close());

// The engine reads the definition from the running relay, like Logic Apps' HTTP + Swagger action.
const served = await stack.request('GET', '/apiDefinition.swagger.json', { headers: { 'x-api-key': '' } });
const definition = served.body;
const engine = new FlowEngine({
  definition,
  origin: `${definition.schemes[0]}://${definition.host}`,
  connection: { apiKey: stack.apiKey },
  maxSleepMs: 50,
});

t.test('list environments, list packages, install and wait: success', async (t) => {
  const environments = await engine.run('ListEnvironments');
  t.equal(environments.status, 'Succeeded');
  const sales = environments.body.value.find(
    (e: { displayName: string }) => e.displayName === 'Contoso Sales',
  );
  t.ok(sales, 'the seeded environment is listed');
  t.equal(sales.hasDataverse, true);

  const packages = await engine.run('ListPackages', { environmentId: sales.id, state: 'NotInstalled' });
  t.equal(packages.status, 'Succeeded');
  const surveys = packages.body.value.find(
    (p: { uniqueName: string }) => p.uniqueName === 'msdyn_ContosoSurveysAnchor',
  );
  t.ok(surveys, 'the package to install is offered and not installed');

  const install = await engine.run('InstallPackage', {
    environmentId: sales.id,
    uniqueName: surveys.uniqueName,
  });
  t.equal(install.status, 'Succeeded', JSON.stringify(install.body));
  t.equal(install.statusCode, 200);
  t.match(install.body, {
    status: 'Succeeded',
    alreadyInstalled: false,
    packageUniqueName: 'msdyn_ContosoSurveysAnchor',
    environmentId: sales.id,
  });
  t.ok(install.polls >= 1, 'the engine waited through Location');
  const polls = install.requests.slice(1);
  t.ok(
    polls.every((r) => r.method === 'GET' && r.url.includes('/wait') && r.credentials === false),
    'polls use the signed Location URL without the connection key',
  );
  t.ok(
    install.requestedDelaysMs.every((d) => d >= 1000),
    'Retry-After asks for whole seconds, at least 1',
  );
});

t.test('the same install again: already installed, no waiting', async (t) => {
  const envs = await engine.run('ListEnvironments');
  const sales = envs.body.value.find((e: { displayName: string }) => e.displayName === 'Contoso Sales');
  const again = await engine.run('InstallPackage', {
    environmentId: sales.id,
    uniqueName: 'msdyn_ContosoSurveysAnchor',
  });
  t.equal(again.status, 'Succeeded');
  t.equal(again.statusCode, 200);
  t.equal(again.polls, 0);
  t.match(again.body, { status: 'Succeeded', alreadyInstalled: true });
});

t.test('a failing package: the action fails with the upstream message', async (t) => {
  const envs = await engine.run('ListEnvironments');
  const sales = envs.body.value.find((e: { displayName: string }) => e.displayName === 'Contoso Sales');
  const failed = await engine.run('InstallPackage', {
    environmentId: sales.id,
    uniqueName: 'msdyn_SalesInsightsAddOn',
  });
  t.equal(failed.status, 'Failed');
  t.equal(failed.statusCode, 422, 'a 4xx, so the engine does not retry it');
  t.match(failed.body.error.message, /Missing dependency msdyn_Base/);
  t.match(failed.body.error.message, /msdyn_SalesInsightsAddOn/);
  const last = failed.requests.at(-1)!;
  t.equal(last.attempt, 0, 'the final 422 was not retried');

  const branching = await engine.run('InstallPackage', {
    environmentId: sales.id,
    uniqueName: 'msdyn_SalesInsightsAddOn',
    failOnError: 'false',
  });
  t.equal(branching.status, 'Succeeded', 'failOnError=false lets the flow branch');
  t.equal(branching.body.status, 'Failed');
});

t.test('a wrong package name fails at once with a suggestion', async (t) => {
  const envs = await engine.run('ListEnvironments');
  const sales = envs.body.value.find((e: { displayName: string }) => e.displayName === 'Contoso Sales');
  const wrong = await engine.run('GetPackage', { environmentId: sales.id, uniqueName: 'Contoso Surveys' });
  t.equal(wrong.status, 'Failed');
  t.equal(wrong.statusCode, 404);
  t.match(wrong.body.error.message, /msdyn_ContosoSurveysAnchor/);
});

t.test('Logic Apps semantics (credentials on polls, its retry policy) reach the same result', async (t) => {
  const logicApps = new FlowEngine({
    definition,
    origin: `${definition.schemes[0]}://${definition.host}`,
    connection: { apiKey: stack.apiKey },
    retry: LOGIC_APPS_DEFAULT_RETRY,
    pollWithCredentials: true,
    maxSleepMs: 50,
  });
  const envs = await logicApps.run('ListEnvironments');
  const sales = envs.body.value.find((e: { displayName: string }) => e.displayName === 'Contoso Sales');
  const install = await logicApps.run('InstallPackage', {
    environmentId: sales.id,
    uniqueName: 'msdyn_FieldInspectionsAnchor',
  });
  t.equal(install.status, 'Succeeded', JSON.stringify(install.body));
  t.match(install.body, { status: 'Succeeded', alreadyInstalled: false });
  t.ok(
    install.requests.slice(1).every((r) => r.credentials),
    'polls carried the connection key',
  );
});
