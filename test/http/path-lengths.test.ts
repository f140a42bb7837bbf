// Path values as long as the definitions promise (maxLength 256 for package unique names and
// tenants) reach the handlers instead of the router's 414; one character more gets the schema's 400
// naming the field; only absurd lengths meet the router. The limit lives in one constant.
import t from 'tap';
import { Client } from 'undici';
import { PATH_VALUE_MAX_LENGTH, ROUTER_PATH_VALUE_LIMIT } from '../../src/path-values.js';
import { type Stack, startStack } from '../helpers/stack.js';

const SALES = '3f2e1d0c-9b8a-4776-a554-433221100ffe';
const stack: Stack = await startStack();
t.teardown(() => stack.close());

t.test('the definitions promise the constant', async (t) => {
  const served = (await stack.request('GET', '/apiDefinition.swagger.json', { headers: { 'x-api-key': '' } })).body;
  const limits = Object.values(served.paths as Record<string, Record<string, { parameters?: Array<Record<string, unknown>> }>>)
    .flatMap((item) => Object.values(item))
    .flatMap((op) => op.parameters ?? [])
    .filter((p) => p.in === 'path' && (p.name === 'uniqueName' || p.name === 'tenant'))
    .map((p) => p.maxLength);
  t.ok(limits.length >= 4);
  t.ok(limits.every((l) => l === PATH_VALUE_MAX_LENGTH), `maxLength ${PATH_VALUE_MAX_LENGTH} everywhere`);
});

t.test('a 256-character package name reaches the package lookup', async (t) => {
  const name = `msdyn_${'A'.repeat(PATH_VALUE_MAX_LENGTH - 6)}`;
  const get = await stack.request('GET', `/v1/environments/${SALES}/packages/${name}`);
  t.equal(get.status, 404, JSON.stringify(get.body));
  t.equal(get.body.error.code, 'PackageNotFound');
  const install = await stack.request('POST', `/v1/environments/${SALES}/packages/${name}/install`);
  t.equal(install.status, 404);
});

t.test('a long tenant reaches the tenant checks: a 253-character domain (the DNS limit) is looked up', async (t) => {
  const suffix = '.onmicrosoft.com';
  const labels: string[] = [];
  while (labels.join('.').length + suffix.length < 253) labels.push('contoso-sub');
  const domain = `${labels.join('.').slice(0, 253 - suffix.length).replace(/[.-]+$/, 'x')}${suffix}`;
  t.equal(domain.length, 253);
  const put = await stack.request('PUT', `/v1/tenant-isolation/rules/${domain}`, { body: { direction: 'Inbound', dryRun: true } });
  t.equal(put.status, 400, JSON.stringify(put.body));
  t.equal(put.body.error.code, 'UnknownTenantDomain');
  const del = await stack.request('DELETE', `/v1/tenant-isolation/rules/${domain}?dryRun=true`);
  t.equal(del.body.error.code, 'UnknownTenantDomain');
  // At the schema's limit the value is checked, not refused by the router.
  const longest = await stack.request('DELETE', `/v1/tenant-isolation/rules/${'a'.repeat(PATH_VALUE_MAX_LENGTH)}`);
  t.equal(longest.body.error.code, 'InvalidTenantIdentifier');
});

t.test('one character more: 400 naming the field; far more: 414', async (t) => {
  const tooLong = await stack.request('GET', `/v1/environments/${SALES}/packages/${'A'.repeat(PATH_VALUE_MAX_LENGTH + 1)}`);
  t.equal(tooLong.status, 400);
  t.equal(tooLong.body.error.target, 'params.uniqueName');
  const tenant = await stack.request('DELETE', `/v1/tenant-isolation/rules/${'a'.repeat(PATH_VALUE_MAX_LENGTH + 1)}`);
  t.equal(tenant.status, 400);
  t.equal(tenant.body.error.target, 'params.tenant');
  const absurd = await stack.request('GET', `/v1/environments/${SALES}/packages/${'A'.repeat(ROUTER_PATH_VALUE_LIMIT + 1)}`);
  t.equal(absurd.status, 414);
  t.equal(absurd.body.error.code, 'UriTooLong');
  t.match(absurd.body.error.message, String(ROUTER_PATH_VALUE_LIMIT));
});

t.test('"." and ".." as path values get a 400 and never reach upstream as a different path', async (t) => {
  for (const dots of ['%2E', '%2E%2E', '%2e%2e']) {
    const upstreamCalls = () => stack.sim.control.calls().filter((c) => !c.route.startsWith('entra.')).length;
    const before = upstreamCalls();
    // Sent as written (as `curl --path-as-is` does): URL parsing on this side would resolve them.
    const client = new Client(stack.baseUrl);
    t.teardown(() => client.close());
    const res = await client.request({ method: 'GET', path: `/v1/environments/${dots}/packages`, headers: { 'x-api-key': stack.apiKey } });
    const body = (await res.body.json()) as { error: { code: string } };
    t.equal(res.statusCode, 400, `${dots}: ${JSON.stringify(body)}`);
    t.equal(body.error.code, 'InvalidRequest');
    t.equal(upstreamCalls() - before, 0, `${dots}: no upstream call`);
  }
});
