// The generator on a fixture route set written like the real routes: what zod says must come out
// as the OpenAPI 2.0 the connector platform accepts, and every platform rule (scripts/connector-check) must hold.
import t from 'tap';
import { z } from 'zod';
import { definitionWarnings, generateDefinition, targetFromBaseUrl } from '../../src/connector-definition/openapi.js';
import { DefinitionRegistry, labelFromName, toSwaggerSchema } from '../../src/connector-definition/openapi-schema.js';
import { buildFixtureApp } from './fixtures/fixture-app.js';
import { checkDefinition, deref, operations, parametersOf } from '../../scripts/connector-check/connector-rules.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests walk a JSON document whose shape the assertions check
type Obj = Record<string, any>;

const app = await buildFixtureApp();
t.teardown(() => app.close());
const doc = generateDefinition(app, { host: 'relay.contoso.com' }) as Obj;
const op = (id: string) => [...operations(doc)].find((o) => o.op.operationId === id)!.op as Obj;
const param = (id: string, name: string) => (op(id).parameters as Obj[]).find((p) => p.name === name)!;

t.test('the fixture definition passes every connector rule and needed no simplification', async (t) => {
  t.same(checkDefinition(doc, { host: 'relay.contoso.com' }), []);
  t.same(definitionWarnings(app), []);
});

t.test('only /v1 routes are operations; the wait endpoint is an internal operation', async (t) => {
  t.same(
    Object.keys(doc.paths).filter((p) => !p.startsWith('/v1/')),
    [],
  );
  const wait = op('WaitForInstall');
  t.equal(wait['x-ms-visibility'], 'internal');
  t.ok(doc.paths['/v1/environments/{environmentId}/operations/{operationId}/wait'].get);
  t.same(Object.keys(wait.responses).sort(), ['200', '202', 'default']);
});

t.test(
  'path parameters are required, single-encoded and labelled; queries keep their optionality',
  async (t) => {
    const env = param('InstallPackage', 'environmentId');
    t.match(env, {
      in: 'path',
      required: true,
      type: 'string',
      format: 'uuid',
      'x-ms-url-encoding': 'single',
      'x-ms-summary': 'Environment',
    });
    t.notOk('pattern' in env, 'zod guid regex is left out');
    t.match(param('InstallPackage', 'failOnError'), {
      in: 'query',
      required: false,
      type: 'boolean',
      default: true,
    });
    t.match(param('InstallPackage', 'waitSeconds'), { type: 'integer', minimum: 0, maximum: 100 });
    t.notOk('x-ms-url-encoding' in param('ListPackages', 'state'));
    t.same(param('ListPackages', 'state')['x-ms-enum-values'][0], {
      value: 'All',
      displayName: 'All packages',
    });
  },
);

t.test(
  'pickers: environment from ListEnvironments, package from ListPackages of that environment',
  async (t) => {
    t.same(param('InstallPackage', 'environmentId')['x-ms-dynamic-values'], {
      operationId: 'ListEnvironments',
      'value-collection': 'value',
      'value-path': 'id',
      'value-title': 'displayName',
    });
    t.same(param('InstallPackage', 'uniqueName')['x-ms-dynamic-values'], {
      operationId: 'ListPackages',
      parameters: { environmentId: { parameter: 'environmentId' } },
      'value-collection': 'value',
      'value-path': 'uniqueName',
      'value-title': 'displayName',
    });
  },
);

t.test(
  'one schema per operation, on 200, as a named definition; 202 declares Location and Retry-After',
  async (t) => {
    const install = op('InstallPackage');
    t.same(install.responses['200'].schema, { $ref: '#/definitions/FixtureInstallResult' });
    t.same(install.responses['202'].headers.Location.type, 'string');
    t.same(install.responses['202'].headers['Retry-After'].type, 'integer');
    t.notOk(install.responses['202'].schema);
    t.notOk(install.responses['422'].schema);
    t.same(
      op('WaitForInstall').responses['200'].schema,
      install.responses['200'].schema,
      'the wait endpoint answers the same final result',
    );
    t.same(op('ListPackages').responses['200'].schema, { $ref: '#/definitions/ListPackagesResponse' });
  },
);

t.test('nullable fields become x-nullable; no anyOf, oneOf, type arrays or nullable anywhere', async (t) => {
  const result = doc.definitions.FixtureInstallResult;
  t.match(result.properties.completedAt, { type: 'string', format: 'date-time', 'x-nullable': true });
  // A nullable named object is inlined: OpenAPI 2.0 tools ignore x-nullable beside a $ref.
  t.match(result.properties.error, { type: 'object', 'x-nullable': true, properties: { code: {} } });
  t.notOk('$ref' in result.properties.error, 'no $ref beside x-nullable');
  t.notOk(/"\$ref":"[^"]*","x-nullable"/.test(JSON.stringify(doc)), 'no nullable $ref anywhere');
  t.match(doc.definitions.FixtureEnvironment.properties.dataverseUrl, { type: 'string', 'x-nullable': true });
  const text = JSON.stringify(doc);
  for (const word of [
    '"anyOf"',
    '"oneOf"',
    '"nullable"',
    '"const"',
    '"$schema"',
    '"additionalProperties":false',
  ])
    t.notOk(text.includes(word), word);
  t.notOk(/"type":\[/.test(text));
});

t.test('the body is one parameter with a labelled schema; literal unions become enums', async (t) => {
  const params = parametersOf(doc, op('UpsertIsolationRule'));
  const body = params.filter((p) => p.in === 'body');
  t.equal(body.length, 1);
  const schema = deref(doc, body[0]!.schema) as Obj;
  t.same(schema.required, ['direction']);
  t.same(schema.properties.choice.enum, ['a', 'b']);
  t.equal(
    schema.properties.reason['x-ms-summary'],
    'Reason',
    'a label is made from the name when none is given',
  );
  t.same(op('UpsertIsolationRule').consumes, ['application/json']);
});

t.test(
  'served target: host, basePath and schemes come from the public base URL; auth variants',
  async (t) => {
    t.same(targetFromBaseUrl('https://relay.contoso.com/admin/'), {
      host: 'relay.contoso.com',
      basePath: '/admin',
      schemes: ['https'],
    });
    t.same(targetFromBaseUrl('http://127.0.0.1:3000'), {
      host: '127.0.0.1:3000',
      basePath: '/',
      schemes: ['http'],
    });
    const keyed = generateDefinition(app, { host: 'h.example.com', auth: 'apikey' }) as Obj;
    t.same(keyed.securityDefinitions, {
      api_key: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An Admin Relay API key.' },
    });
    t.same(keyed.security, [{ api_key: [] }]);
    t.same(doc.security, [{ oauth2_auth: [] }]);
    t.match(doc.securityDefinitions.oauth2_auth, {
      type: 'oauth2',
      flow: 'accessCode',
      authorizationUrl: 'https://login.microsoftonline.com/common/oauth2/authorize',
    });
    const open = generateDefinition(app, { host: 'h.example.com', auth: 'none' }) as Obj;
    t.same(open.security, []);
    t.not(
      keyed,
      generateDefinition(app, { host: 'h.example.com', auth: 'apikey' }),
      'each call returns a fresh copy',
    );
  },
);

t.test('schemas OpenAPI 2.0 cannot express are simplified with a warning, never emitted as is', async (t) => {
  const registry = new DefinitionRegistry();
  const out = toSwaggerSchema(
    z.object({
      either: z.union([z.string(), z.number()]),
      shape: z.union([z.object({ a: z.string() }), z.object({ a: z.string(), b: z.number() })]),
      both: z.string().regex(/^x/).nullable(),
    }),
    'output',
    registry,
    'test',
  ) as Obj;
  t.notOk(out.properties.either.type, 'several types: left untyped');
  t.same(Object.keys(out.properties.shape.properties), ['a', 'b']);
  t.same(out.properties.shape.required, ['a']);
  t.match(out.properties.both, { type: 'string', pattern: '^x', 'x-nullable': true });
  t.equal(registry.warnings.length, 2);
  t.match(registry.warnings[0], /test\.either: a value of several types/);
});

t.test('a schema zod cannot convert becomes an untyped value with a warning, not a broken document', async (t) => {
  const registry = new DefinitionRegistry();
  const out = toSwaggerSchema({ _zod: { def: { type: 'nonsense' } } }, 'output', registry, 'odd');
  t.same(out, {});
  t.match(registry.warnings[0], /^odd: could not be converted/);
});

t.test('a named schema used for input and output keeps both shapes under distinct names', async (t) => {
  const registry = new DefinitionRegistry();
  const Named = z.object({ n: z.number().default(1) }).meta({ id: 'Named' });
  const input = toSwaggerSchema(z.object({ x: Named }), 'input', registry, 'in') as Obj;
  const output = toSwaggerSchema(z.object({ x: Named }), 'output', registry, 'out') as Obj;
  t.not(input.properties.x.$ref, output.properties.x.$ref);
  t.same(registry.definitions.get('Named')?.required, undefined);
  t.same([...registry.definitions.keys()].sort(), ['Named', 'NamedOutput']);
});

t.test('labels from names', async (t) => {
  t.equal(labelFromName('packageUniqueName'), 'Package Unique Name');
  t.equal(labelFromName('id'), 'Id');
  t.equal(labelFromName('dry_run'), 'Dry Run');
});
