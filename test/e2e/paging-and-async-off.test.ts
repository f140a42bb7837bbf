// Through the definition the relay serves, run as the flow engine runs it: the environment picker
// of the package actions offers only environments with Dataverse; ListIsolationChanges with
// Pagination on follows nextLink and receives every record; and a maker who turns the asynchronous
// pattern off gets the 202 body, then follows the install with GetInstallStatus (by the body's
// operationId) or with the Location header, as connector/README.md tells them.
import t from 'tap';
import { type Stack, startStack } from '../helpers/stack.js';
import { FlowEngine } from './flow-engine.js';

const stack: Stack = await startStack({ env: { TRUST_PROXY: 'true' } });
t.teardown(() => stack.close());
const definition = (await stack.request('GET', '/apiDefinition.swagger.json', { headers: { 'x-api-key': '' } })).body;
const engine = (asyncPattern = true) =>
  new FlowEngine({
    definition,
    origin: `${definition.schemes[0]}://${definition.host}`,
    connection: { apiKey: stack.apiKey },
    maxSleepMs: 50,
    asyncPattern,
  });

t.test('the environment picker of the package actions lists only environments with Dataverse', async (t) => {
  const { op } = engine().operation('InstallPackage');
  const picker = (op.parameters as Array<Record<string, unknown>>).find((p) => p.name === 'environmentId')!['x-ms-dynamic-values'] as {
    operationId: string;
    parameters?: Record<string, unknown>;
    'value-collection': string;
  };
  // The designer calls the picker's operation with its literal parameters.
  const listed = await engine().run(picker.operationId, picker.parameters ?? {});
  t.equal(listed.status, 'Succeeded');
  const names = listed.body[picker['value-collection']].map((e: { displayName: string }) => e.displayName).sort();
  t.same(names, ['Contoso (default)', 'Contoso Sales'], 'Contoso Teams (no Dataverse) is not offered');
  const all = await engine().run('ListEnvironments');
  t.ok(all.body.value.some((e: { displayName: string }) => e.displayName === 'Contoso Teams'), 'it is still in the unfiltered list');
});

t.test('Pagination on: following nextLink receives every isolation change', async (t) => {
  for (let i = 0; i < 7; i++) {
    const r = await engine().run('UpsertIsolationRule', {
      tenant: 'woodgrove.onmicrosoft.com',
      'body/direction': i % 2 ? 'Inbound' : 'Outbound',
      'body/dryRun': true,
      'body/reason': `paging ${i}`,
    });
    t.equal(r.status, 'Succeeded');
  }
  const everything = await stack.request('GET', '/v1/tenant-isolation/changes?pageSize=200');
  const expected = everything.body.value.map((c: { changeId: string }) => c.changeId);
  t.ok(expected.length >= 7);

  const paged = await engine().runPaged('ListIsolationChanges', { pageSize: 2 });
  t.equal(paged.status, 'Succeeded');
  t.same(paged.body.value.map((c: { changeId: string }) => c.changeId), expected, 'every record, newest first, none twice');
  t.equal(paged.pages, Math.ceil(expected.length / 2));
  const nextLinks = paged.requests.slice(1);
  t.ok(nextLinks.every((r) => r.url.startsWith(`${stack.config.publicBaseUrl}/v1/tenant-isolation/changes?`) && r.credentials), 'absolute nextLinks on the public base URL, sent with the connection');
  t.same(paged.body.nextLink, null, 'the last page says there is no more');
});

t.test('nextLink behind a trusted proxy is on the forwarded host, like Location', async (t) => {
  const page = await stack.request('GET', '/v1/tenant-isolation/changes?pageSize=1', {
    headers: { 'x-forwarded-host': 'relay.contoso.com', 'x-forwarded-proto': 'https' },
  });
  t.equal(page.status, 200);
  t.match(page.body.nextLink, /^https:\/\/relay\.contoso\.com\/v1\/tenant-isolation\/changes\?pageSize=1&continuationToken=/);
});

t.test('asynchronous pattern off: the 202 body, then GetInstallStatus or the Location header', async (t) => {
  const SALES = '3f2e1d0c-9b8a-4776-a554-433221100ffe';
  // Frozen simulated time: the install cannot end before the maker's flow looks at it.
  await stack.sim.control.setSpeed(1e-9);
  const install = await engine(false).run('InstallPackage', { environmentId: SALES, uniqueName: 'ContosoExpenseApprovals' });
  t.equal(install.status, 'Succeeded', 'with the pattern off, the 202 ends the action');
  t.equal(install.statusCode, 202);
  t.equal(install.polls, 0);
  // body('Install')?['operationId'] and outputs('Install')?['headers']?['Location']
  const { operationId, packageUniqueName, statusUrl } = install.body;
  t.match(operationId, /^[0-9a-f-]{36}$/);
  t.equal(statusUrl, install.headers.location);
  const running = await engine().run('GetInstallStatus', { environmentId: SALES, operationId, package: packageUniqueName });
  t.equal(running.statusCode, 200);
  t.match(running.body.status, /^(NotStarted|Running)$/);

  await stack.sim.control.advanceClock(60_000);
  await stack.sim.control.setSpeed(50);
  // A Do until loop around GetInstallStatus, as a maker writes it.
  let status = running.body.status;
  const until = Date.now() + 60_000;
  while (Date.now() < until && !['Succeeded', 'Failed', 'Canceled', 'TimedOut'].includes(status)) {
    await new Promise((r) => setTimeout(r, 50));
    status = (await engine().run('GetInstallStatus', { environmentId: SALES, operationId, package: packageUniqueName })).body.status;
  }
  t.equal(status, 'Succeeded', 'GetInstallStatus with the operationId from the body');
  // Or an HTTP action on the Location header (no credentials needed: it is signed).
  const viaLocation = await fetch(install.headers.location!);
  t.equal(viaLocation.status, 200);
  t.equal((await viaLocation.json()).status, 'Succeeded');
});
