// The flow engine runs StartRollout through the definition the relay serves and waits for the
// whole rollout through Location (polling without credentials, as Power Automate may); with Fail
// On Error the action fails on a partial success, without it the flow gets the table.
import t from 'tap';
import { FLEET_PACKAGE, startFleet } from '../rollouts/fleet.js';
import { FlowEngine } from './flow-engine.js';

const stack = await startFleet(12);
t.teardown(() => stack.close());
const served = await stack.request('GET', '/apiDefinition.swagger.json', { headers: { 'x-api-key': '' } });
const definition = served.body;
const engine = new FlowEngine({
  definition,
  origin: `${definition.schemes[0]}://${definition.host}`,
  connection: { apiKey: stack.apiKey },
  maxSleepMs: 50,
  pollWithCredentials: false,
  maxPolls: 2_000,
});

t.test('one action waits for the whole rollout through Location', async (t) => {
  const run = await engine.run('StartRollout', {
    failOnError: 'false',
    body: { packageUniqueName: FLEET_PACKAGE, filter: { types: ['Production'], displayNamePattern: 'Fleet*' }, reason: 'flow test' },
  });
  t.equal(run.status, 'Succeeded', JSON.stringify(run.body).slice(0, 400));
  t.equal(run.statusCode, 200);
  t.ok(run.polls >= 1, 'the engine polled Location');
  t.ok(run.requests.slice(1).every((r) => !r.credentials), 'polls carried no credentials (the signed URL let them in)');
  t.match(run.body, { status: 'PartiallySucceeded', counts: { total: 3 } });
  t.match(run.body.environments, [
    { environmentName: 'Fleet Production 001', status: 'Succeeded' },
    { environmentName: 'Fleet Production 005', status: 'Failed', errorCode: 'InstallFailed' },
    { environmentName: 'Fleet Production 009', status: 'Succeeded', fromVersion: '1.0.0.0' },
  ]);
});

t.test('Fail On Error (default): a rollout that did not fully succeed fails the action', async (t) => {
  const run = await engine.run('StartRollout', {
    body: { packageUniqueName: FLEET_PACKAGE, environmentIds: ['f1ee7000-0000-4000-8000-000000000005'], reason: 'flow test' },
  });
  t.equal(run.status, 'Failed');
  t.equal(run.statusCode, 422);
  t.equal(run.body.error.code, 'RolloutFailed');
  t.match(run.body.error.message, /A required component is missing/);
});
