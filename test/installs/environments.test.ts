// ListEnvironments and the environment pre-checks (unknown environment, no Dataverse).
import t from 'tap';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/seed.js';
import { startStack } from '../helpers/stack.js';

t.test('environments', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());

  t.test('ListEnvironments lists every environment with its Dataverse state', async (t) => {
    const res = await stack.request('GET', '/v1/environments');
    t.equal(res.status, 200);
    const byId = new Map(res.body.value.map((e: { id: string }) => [e.id, e]));
    t.match(byId.get(DEMO_ENVIRONMENTS.default), { displayName: 'Contoso (default)', hasDataverse: true, dataverseUrl: /^https:/ });
    t.match(byId.get(DEMO_ENVIRONMENTS.teams), { hasDataverse: false, dataverseUrl: null, environmentSku: 'Teams' });
  });

  t.test('an environment without Dataverse is refused with how to add it', async (t) => {
    const list = await stack.request('GET', `/v1/environments/${DEMO_ENVIRONMENTS.teams}/packages`);
    t.equal(list.status, 409);
    t.equal(list.body.error.code, 'DataverseRequired');
    t.match(list.body.error.message, /no Dataverse.*Add Dataverse/);
    const install = await stack.request('POST', `/v1/environments/${DEMO_ENVIRONMENTS.teams}/packages/msdyn_ContosoSurveysAnchor/install`);
    t.equal(install.status, 409);
    t.equal(install.body.error.code, 'DataverseRequired');
    t.equal(stack.sim.control.calls({ route: 'ppapi.install' }).length, 0);
  });

  t.test('the older environment style ({"instanceUrl": ""}, ids without scopes/admin) reads the same', async (t) => {
    stack.sim.control.setOption('environmentShape', 'legacy');
    t.teardown(() => stack.sim.control.setOption('environmentShape', 'captured'));
    const res = await stack.request('GET', '/v1/environments');
    const byId = new Map(res.body.value.map((e: { id: string }) => [e.id, e]));
    t.match(byId.get(DEMO_ENVIRONMENTS.sales), { hasDataverse: true, dataverseUrl: 'https://contososales.crm.dynamics.com/' });
    t.match(byId.get(DEMO_ENVIRONMENTS.teams), { hasDataverse: false, dataverseUrl: null });
    const list = await stack.request('GET', `/v1/environments/${DEMO_ENVIRONMENTS.teams}/packages`);
    t.equal(list.status, 409);
  });

  t.test('an unknown environment is a 404 that says how to find the id', async (t) => {
    const unknown = '99999999-8888-4777-8666-555555555555';
    for (const [method, path] of [
      ['GET', `/v1/environments/${unknown}/packages`],
      ['GET', `/v1/environments/${unknown}/packages/MicrosoftFormsPro`],
      ['POST', `/v1/environments/${unknown}/packages/MicrosoftFormsPro/install`],
    ] as const) {
      const res = await stack.request(method, path);
      t.equal(res.status, 404, `${method} ${path}`);
      t.equal(res.body.error.code, 'EnvironmentNotFound');
      t.match(res.body.error.message, /ListEnvironments/);
    }
  });

  t.test('a malformed environment id is a 400', async (t) => {
    const res = await stack.request('GET', '/v1/environments/contoso-sales/packages');
    t.equal(res.status, 400);
    t.match(res.body.error.message, /environment id/);
  });
});
