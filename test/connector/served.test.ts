// GET /apiDefinition.swagger.json, GET /openapi.json and Swagger UI at /docs serve the same documents
// as the committed files, with host, basePath and schemes from PUBLIC_BASE_URL and the sign-in this
// relay accepts, and none needs credentials.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { unreachableUpstream } from '../../scripts/connector-definition.js';
import { checkDefinition } from '../../scripts/connector-check/connector-rules.js';

const committed = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../apiDefinition.swagger.json', import.meta.url)), 'utf8'),
);

const committedContract = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../openapi.json', import.meta.url)), 'utf8'),
);

async function appWith(env: Record<string, string>) {
  const config = loadConfig({ LOG_LEVEL: 'silent', AUDIT_STORE: 'memory', UPSTREAM: 'simulator', ...env });
  const app = await buildApp({ config, upstream: unreachableUpstream() });
  await app.ready();
  return app;
}

t.test('the connector definition and Swagger UI are built on first use, not at start', async (t) => {
  const swaggerLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => /node_modules\/@fastify\/swagger(-ui)?\//.test(path));
  const app = await appWith({});
  t.teardown(() => app.close());
  t.notOk(swaggerLoaded(), '@fastify/swagger and Swagger UI are not loaded by a start');
  t.equal((await app.inject({ method: 'GET', url: '/apiDefinition.swagger.json' })).statusCode, 200);
  t.ok(swaggerLoaded(), 'the first request for the definition loads them');
  t.equal((await app.inject({ method: 'GET', url: '/docs/no-such-file.js' })).json().error.code, 'NotFound', "an unknown /docs path gets the relay's 404");
});

t.test(
  'served definition: public host and base path, API-key sign-in, same operations as committed',
  async (t) => {
    const app = await appWith({
      PUBLIC_BASE_URL: 'https://relay.contoso.com/admin',
      AUTH_MODE: 'apikey',
      DEMO_API_KEY: 'k'.repeat(32),
    });
    t.teardown(() => app.close());
    const res = await app.inject({ method: 'GET', url: '/apiDefinition.swagger.json' });
    t.equal(res.statusCode, 200, 'no credentials needed');
    t.match(res.headers['content-type'], /application\/json/);
    const served = res.json();
    t.equal(served.host, 'relay.contoso.com');
    t.equal(served.basePath, '/admin');
    t.same(served.schemes, ['https']);
    t.same(served.security, [{ api_key: [] }]);
    t.same(served.paths, committed.paths);
    t.same(served.definitions, committed.definitions);
    t.same(checkDefinition(served, { host: 'relay.contoso.com' }), []);

    const contract = await app.inject({ method: 'GET', url: '/openapi.json' });
    t.equal(contract.statusCode, 200, 'the full contract needs no credentials either');
    const full = contract.json();
    t.same(full.servers, [{ url: 'https://relay.contoso.com/admin' }], 'on the public base URL');
    t.same(full.security, [{ api_key: [] }], 'with the sign-in this relay accepts');
    // Only the sign-in differs (the committed file lists both the relay supports).
    const withoutSecurity = (paths: Record<string, Record<string, Record<string, unknown>>>) =>
      JSON.parse(JSON.stringify(paths, (key, value) => (key === 'security' ? undefined : value)));
    t.same(withoutSecurity(full.paths), withoutSecurity(committedContract.paths), 'the same operations, statuses and bodies as openapi.json');
    t.same(full.components.schemas, committedContract.components.schemas);

    const ui = await app.inject({ method: 'GET', url: '/docs/json' });
    t.equal(ui.statusCode, 200);
    t.same(ui.json(), served, 'Swagger UI shows the same definition');
    const page = await app.inject({ method: 'GET', url: '/docs/' });
    t.equal(page.statusCode, 200);
    t.match(page.body, /swagger-ui/i);
  },
);

t.test('Entra sign-in is what an entra relay serves; plain http on loopback keeps its scheme', async (t) => {
  const app = await appWith({
    PUBLIC_BASE_URL: 'http://127.0.0.1:3999',
    AUTH_MODE: 'entra',
    ENTRA_AUDIENCE: 'api://relay',
  });
  t.teardown(() => app.close());
  const served = (await app.inject({ method: 'GET', url: '/apiDefinition.swagger.json' })).json();
  t.equal(served.host, '127.0.0.1:3999');
  t.same(served.schemes, ['http']);
  t.same(served.security, [{ oauth2_auth: [] }]);
  t.same(served.securityDefinitions, committed.securityDefinitions);
});
