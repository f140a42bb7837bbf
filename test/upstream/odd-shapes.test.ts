// Upstream answers the simulator does not produce but the reference says can happen: an HTML
// gateway page, a CAE claims challenge, a next-page link to another host, an install answer
// with no operation id, a 202 PUT without Location, and a 409 while polling a 202 PUT. A small
// local server plays upstream here; tokens still come from the simulator's Entra.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { UpstreamError } from '../../src/upstream/errors.js';
import { startUpstreamFixture } from '../helpers/upstream-fixture.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

t.test('odd upstream shapes', async (t) => {
  const fx = await startUpstreamFixture();
  let handler: Handler = (_req, res) => res.end();
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await fx.close();
  });
  const up = fx.clients({ PPAPI_BASE_URL: origin, BAP_BASE_URL: origin });
  t.beforeEach(() => {
    seen.length = 0;
    fx.clock.sleeps.length = 0;
  });
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };

  t.test('an HTML gateway page becomes a readable message', async (t) => {
    handler = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html', 'x-ms-correlation-id': 'corr-1' });
      res.end('<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>');
    };
    const err = await up.environments.list(fx.ctx({ deadline: fx.clock.now() + 2000 })).catch((e) => e);
    t.type(err, UpstreamError);
    t.equal(err.status, 502);
    t.equal(err.details.upstreamMessage, '502 Bad Gateway');
    t.equal(err.details.correlationId, 'corr-1');
  });

  t.test('a CAE claims challenge is not retried with the same credential', async (t) => {
    handler = (_req, res) =>
      json(res, 401, { error: { code: 'InvalidAuthenticationToken', message: 'claims' } }, {
        'www-authenticate': 'Bearer error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="',
      });
    const err = await up.environments.list(fx.ctx()).catch((e) => e);
    t.equal(err.code, 'ClaimsChallenge');
    t.match(err.message, /Conditional Access/);
    t.equal(seen.length, 1);
  });

  t.test('a next-page link to another host is not followed', async (t) => {
    handler = (_req, res) => json(res, 200, { value: [{ uniqueName: 'a' }], '@odata.nextLink': 'https://elsewhere.example.com/page2' });
    const err = await up.appManagement.listEnvironmentPackages('e1', {}, fx.ctx()).catch((e) => e);
    t.type(err, UpstreamError);
    t.match(err.message, /another host \(https:\/\/elsewhere\.example\.com\)/);
    t.equal(seen.length, 1, 'the token never went to the other host');
  });

  t.test('relative next-page links are followed; a link loop is stopped', async (t) => {
    handler = (req, res) =>
      req.url?.includes('page=2')
        ? json(res, 200, { value: [{ uniqueName: 'b' }] })
        : json(res, 200, { value: [{ uniqueName: 'a' }], '@odata.nextLink': '/appmanagement/environments/e1/applicationPackages?page=2' });
    const list = await up.appManagement.listEnvironmentPackages('e1', {}, fx.ctx());
    t.same(list.map((p) => p.uniqueName), ['a', 'b']);
    handler = (_req, res) => json(res, 200, { value: [], '@odata.nextLink': `${origin}/same` });
    const err = await up.appManagement.listEnvironmentPackages('e1', {}, fx.ctx()).catch((e) => e);
    t.match(err.message, /kept sending next-page links/);
  });

  t.test('an install answer with no operation id is an error that says what to check', async (t) => {
    handler = (_req, res) => json(res, 202, { id: 'x', lastOperation: { state: 'InstallRequested' } });
    const err = await up.appManagement.installPackage('e1', 'pkg', fx.ctx()).catch((e) => e);
    t.equal(err.code, 'InstallOperationUnknown');
    t.match(err.message, /neither an Operation-Location header nor lastOperation\.operationId/);
    t.equal(seen.length, 1);
  });

  t.test('a 202 policy PUT without Location is an error', async (t) => {
    handler = (_req, res) => json(res, 202, undefined);
    const err = await up.isolation.put('t1', { properties: { tenantId: 't1' } }, fx.ctx()).catch((e) => e);
    t.equal(err.code, 'AsyncOperationWithoutLocation');
  });

  t.test('a 202 policy PUT: Operation-Location, 202 (Retry-After 1 → 2 s), 409, 200, then a fresh GET', async (t) => {
    const polls = [202, 409, 200];
    handler = (req, res) => {
      if (req.method === 'PUT') return json(res, 202, undefined, { 'operation-location': `${origin}/poll/1` });
      if (req.url === '/poll/1') return json(res, polls.shift()!, {}, { 'retry-after': '1' });
      return json(res, 200, { properties: { tenantId: 't1', isDisabled: true, allowedTenants: [], extra: 1 } });
    };
    const result = await up.isolation.put('t1', { properties: { tenantId: 't1', isDisabled: true, allowedTenants: [] } }, fx.ctx());
    t.same(result, { properties: { tenantId: 't1', isDisabled: true, allowedTenants: [], extra: 1 } });
    t.same(seen.map((s) => s.split(' ')[0]), ['PUT', 'GET', 'GET', 'GET', 'GET']);
    t.equal(fx.clock.sleeps[0], 2000, 'Retry-After 1 clamped up to 2 s');
    t.ok(fx.clock.sleeps[1]! < 2000, '409 re-polls promptly');
  });

  t.test('a policy GET with an empty 200 body means "never configured"', async (t) => {
    handler = (_req, res) => json(res, 200, undefined);
    t.equal(await up.isolation.get('t1', fx.ctx()), null);
  });
});
