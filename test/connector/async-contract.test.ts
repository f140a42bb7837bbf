// The connector platform's asynchronous-action contract against the running relay: the
// install answers 202 with a self-sufficient body, an absolute https Location on the connector's
// host and basePath and an integer Retry-After; a repeated POST joins the same operation; Location
// answers 202 until the end and then the final result in the shape the definition declares.
import t from 'tap';
import { type Stack, startStack } from '../helpers/stack.js';
import { deref, operations } from '../../scripts/connector-check/connector-rules.js';

// biome-ignore lint/suspicious/noExplicitAny: the test reads a JSON document whose shape it asserts
type Json = Record<string, any>;

const PUBLIC = 'https://relay.contoso.com';
const SALES = '3f2e1d0c-9b8a-4776-a554-433221100ffe';

// Real-time simulator (speed 1): the seeded install takes seconds, so the 202 phase is observable.
const stack: Stack = await startStack({ speed: 1 });
t.teardown(() => stack.close());
// As behind a TLS front end: Location and the served definition use the public origin.
stack.config.publicBaseUrl = PUBLIC;
const definition = (
  await stack.request('GET', '/apiDefinition.swagger.json', { headers: { 'x-api-key': '' } })
).body;
const op = (id: string) => [...operations(definition)].find((o) => o.op.operationId === id)!;

/** Follows a public URL to this test's listener (what the TLS front end would do). */
const local = (url: string) => url.replace(PUBLIC, '');

t.test(
  'the definition: InstallPackage and its Location share the 200 schema; 202 has headers, no schema',
  async (t) => {
    t.equal(definition.host, 'relay.contoso.com');
    const install = op('InstallPackage').op as Json;
    const wait = op('WaitForInstall').op as Json;
    t.same(
      deref(definition, install.responses['200'].schema),
      deref(definition, wait.responses['200'].schema),
    );
    t.same(Object.keys(install.responses['202'].headers).sort(), ['Location', 'Retry-After']);
    t.notOk(install.responses['202'].schema);
  },
);

t.test(
  '202, Location, Retry-After, a repeated POST joins, Location ends with the declared result',
  async (t) => {
    const path = `/v1/environments/${SALES}/packages/ContosoExpenseApprovals/install`;
    const first = await stack.request('POST', path);
    t.equal(first.status, 202, JSON.stringify(first.body));
    t.ok(first.body.operationId, '202 body has operationId');
    t.ok(first.body.status, '202 body has status');
    const location = new URL(first.headers.location!);
    t.equal(location.protocol, 'https:');
    t.equal(location.host, definition.host, 'Location is on the connector host');
    t.ok(location.pathname.startsWith(definition.basePath), 'and under its basePath');
    const retryAfter = Number(first.headers['retry-after']);
    t.ok(
      Number.isInteger(retryAfter) && retryAfter >= 1,
      `Retry-After is an integer ≥ 1 (${first.headers['retry-after']})`,
    );

    const second = await stack.request('POST', path);
    t.equal(second.status, 202);
    t.equal(second.body.operationId, first.body.operationId, 'the repeated POST joins the running install');
    t.equal(new URL(second.headers.location!).pathname, location.pathname, 'and points at the same Location');

    let polls = 0;
    let answer = await stack.request('GET', local(first.headers.location!), { headers: { 'x-api-key': '' } });
    while (answer.status === 202 && polls < 100) {
      t.ok(Number(answer.headers['retry-after']) >= 1);
      polls++;
      await new Promise((r) => setTimeout(r, 200));
      answer = await stack.request('GET', local(answer.headers.location ?? first.headers.location!), {
        headers: { 'x-api-key': '' },
      });
    }
    t.equal(answer.status, 200, JSON.stringify(answer.body));
    const schema = deref(definition, (op('InstallPackage').op as Json).responses['200'].schema);
    const declared = Object.keys(schema.properties as object);
    t.same(
      Object.keys(answer.body).filter((k) => !declared.includes(k)),
      [],
      'no property the definition does not declare',
    );
    t.same(
      (schema.required as string[]).filter((k) => !(k in answer.body)),
      [],
      'every required property present',
    );
    t.equal(answer.body.status, 'Succeeded');
  },
);
