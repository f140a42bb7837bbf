// "When a package install finishes", run as the platform runs a polling trigger. One install goes
// through the relay; another is started straight on upstream (the upstream client, not the relay),
// as the admin center would; a failed install comes with its upstream error.
import t from 'tap';
import { waitFor } from '../helpers/wait-for.js';
import { type Stack, startStack } from '../helpers/stack.js';
import { FlowEngine, type TriggerState } from './flow-engine.js';

const TRIGGER = 'OnPackageInstallFinished';
const SALES = '3f2e1d0c-9b8a-4776-a554-433221100ffe';

const stack: Stack = await startStack();
t.teardown(() => stack.close());
const definition = (await stack.request('GET', '/apiDefinition.swagger.json', { headers: { 'x-api-key': '' } })).body;
const engine = new FlowEngine({ definition, origin: `${definition.schemes[0]}://${definition.host}`, connection: { apiKey: stack.apiKey }, maxSleepMs: 50 });

async function baseline(): Promise<TriggerState> {
  const first = await engine.pollTrigger(TRIGGER, { environmentId: SALES, pollSeconds: 60 });
  if (first.statusCode !== 202 || !first.next) throw new Error(`baseline: ${first.statusCode} ${JSON.stringify(first.body)}`);
  return first.next;
}

t.test('a relay install and an install started outside both fire once, with outcome and error', async (t) => {
  let state = await baseline();
  t.equal(state.retryAfterMs, 60_000);
  const quiet = await engine.pollTrigger(TRIGGER, {}, state);
  t.equal(quiet.statusCode, 202, 'nothing ended yet');
  state = quiet.next!;

  const install = await engine.run('InstallPackage', { environmentId: SALES, uniqueName: 'msdyn_ContosoSurveysAnchor' });
  t.equal(install.status, 'Succeeded', JSON.stringify(install.body));
  const fired = await engine.pollTrigger(TRIGGER, {}, state);
  t.equal(fired.statusCode, 200, JSON.stringify(fired.body));
  t.equal(fired.items.length, 1);
  t.match(fired.items[0], { environmentId: SALES, packageUniqueName: 'msdyn_ContosoSurveysAnchor', outcome: 'Installed', error: null });
  // The package list (like upstream's) names no operation for an ended install: null, never a guess.
  t.equal(fired.items[0].operationId, null);
  t.ok(install.body.operationId);
  state = fired.next!;
  t.equal((await engine.pollTrigger(TRIGGER, {}, state)).statusCode, 202, 'not reported twice');

  const outside = await stack.upstream.appManagement.installPackage(SALES, 'msdyn_SalesInsightsAddOn', { correlationId: 'outside-install' });
  await waitFor(() => stack.sim.control.packageState(SALES, 'msdyn_SalesInsightsAddOn') === 'InstallFailed', 'the outside install to fail');
  const failed = await engine.pollTrigger(TRIGGER, {}, state);
  t.equal(failed.items.length, 1, JSON.stringify(failed.body));
  t.match(failed.items[0], { packageUniqueName: 'msdyn_SalesInsightsAddOn', outcome: 'InstallFailed', version: String });
  t.ok(outside.operationId, 'started outside the relay');
  t.ok(failed.items[0].error?.message, 'the upstream error is passed on');
});

t.test('an unknown environment or an edited cursor is a 4xx, not a 500', async (t) => {
  const missing = await engine.pollTrigger(TRIGGER, { environmentId: '00000000-0000-4000-8000-000000000000' });
  t.equal(missing.statusCode, 404);
  const state = await baseline();
  const edited = await engine.pollTrigger(TRIGGER, {}, { ...state, location: state.location.replace(/cursor=[^&]+/, 'cursor=forged') });
  t.equal(edited.statusCode, 400);
});
