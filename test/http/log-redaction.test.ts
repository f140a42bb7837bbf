// Secrets never reach the logs: capture everything pino writes at trace level while calls carry
// API keys, bearer tokens and signed wait URLs (accepted and refused), then search for each secret.
import { captureLogs } from '../helpers/capture-logs.js';
import t from 'tap';
import { sha256Hex } from '../../src/http/api-keys.js';
import { loggerOptions } from '../../src/http/logging.js';
import { startLocalEntra } from './support/local-entra.js';
import { buildProbeApp } from './support/probe-app.js';

t.test('API keys, bearer tokens and wait-URL signatures never appear in the log', async (t) => {
  const entra = await startLocalEntra();
  t.teardown(() => entra.close());
  const KEY = 'very-secret-api-key-0123456789';
  const DEMO = 'very-secret-demo-key-0123456789';
  const WRONG = 'wrong-secret-key-0123456789';
  const SIG = '4102444800.SECRETSIGNATUREabcdefghijklmnopqrstuvwxyz0123456';
  const cap = captureLogs(loggerOptions('trace'));
  const keyApp = await buildProbeApp({ AUTH_MODE: 'apikey', API_KEYS: `flows:${sha256Hex(KEY)}:packages.read`, DEMO_API_KEY: DEMO }, cap.logger);
  const entraApp = await buildProbeApp(
    { AUTH_MODE: 'entra', UPSTREAM_AUTH: 'obo', AZURE_AUTHORITY_HOST: entra.origin, ENTRA_AUDIENCE: 'api://admin-relay', ENTRA_ALLOWED_TENANTS: entra.tenantId },
    cap.logger,
  );
  t.teardown(async () => {
    await keyApp.close();
    await entraApp.close();
  });
  const good = await entra.mintToken({ upn: 'admin@contoso.com', scp: 'packages.read' });
  const lacking = await entra.mintToken({ upn: 'admin@contoso.com', scp: 'isolation.read' });
  const expired = await entra.mintToken({ scp: 'packages.read', expiresInSeconds: -300 });

  const statuses = [
    (await keyApp.inject({ url: '/v1/probe/read', headers: { 'x-api-key': KEY } })).statusCode,
    (await keyApp.inject({ method: 'POST', url: '/v1/probe/write', headers: { 'x-api-key': KEY }, payload: {} })).statusCode,
    (await keyApp.inject({ url: '/v1/probe/read', headers: { 'x-api-key': WRONG } })).statusCode,
    (await keyApp.inject({ url: '/v1/probe/read', headers: { 'x-api-key': DEMO, cookie: `session=${KEY}` } })).statusCode,
    (await keyApp.inject({ url: `/v1/probe/wait?sig=${SIG}` })).statusCode,
    (await entraApp.inject({ url: '/v1/probe/read', headers: { authorization: `Bearer ${good}` } })).statusCode,
    (await entraApp.inject({ url: '/v1/probe/read', headers: { authorization: `Bearer ${lacking}` } })).statusCode,
    (await entraApp.inject({ url: '/v1/probe/read', headers: { authorization: `Bearer ${expired}` } })).statusCode,
    (await entraApp.inject({ url: `/v1/probe/wait?sig=${SIG}`, headers: { authorization: `Bearer ${good}` } })).statusCode,
  ];
  t.same(statuses, [200, 403, 401, 200, 200, 200, 403, 401, 200]);
  const log = cap.text();
  t.ok(log.length > 1000, 'the requests were logged');
  t.match(log, /admin@contoso\.com/, 'the caller identity is logged');
  t.match(log, /"name":"flows"/, 'the key name is logged');
  for (const secret of [KEY, DEMO, WRONG, SIG, SIG.split('.')[1]!, good, lacking, expired, ...good.split('.').slice(1)]) {
    t.notOk(log.includes(secret), `secret ${secret.slice(0, 12)}… is not in the log`);
  }
  // Redaction, not luck: a log call that does carry them is censored too.
  cap.logger.info({ headers: { authorization: `Bearer ${good}`, 'x-api-key': KEY }, ctx: { userAssertion: good } }, 'explicit');
  t.notOk(cap.text().includes(good));
  t.notOk(cap.text().includes(KEY));
});

t.test('the whole stack at trace level: no key, client secret, wait secret, signature or JWT in the log', async (t) => {
  const { startStack } = await import('../helpers/stack.js');
  const { defaultSeed } = await import('../../src/simulator/index.js');
  const clientId = defaultSeed().relayApp.clientId;
  const cap = captureLogs(loggerOptions('trace'));
  const stack = await startStack({
    logger: cap.logger,
    env: { AUTH_MODE: 'entra', UPSTREAM_AUTH: 'obo', ENTRA_AUDIENCE: `api://${clientId}`, LOG_LEVEL: 'trace' },
  });
  t.teardown(() => stack.close());
  const user = await stack.sim.control.mintToken({
    audience: `api://${clientId}`,
    tenantId: stack.sim.tenantId,
    upn: 'admin@contoso.com',
    scp: 'packages.read packages.install isolation.read isolation.write',
  });
  const auth = { 'x-api-key': '', authorization: `Bearer ${user}` };
  const envs = await stack.request('GET', '/v1/environments', { headers: auth });
  t.equal(envs.status, 200, JSON.stringify(envs.body));
  const env = (envs.body.value as Array<{ id: string; hasDataverse: boolean }>).find((e) => e.hasDataverse)!;
  const pkgs = await stack.request('GET', `/v1/environments/${env.id}/packages?state=NotInstalled`, { headers: auth });
  const install = await stack.request('POST', `/v1/environments/${env.id}/packages/${pkgs.body.value[0].uniqueName}/install`, { headers: auth });
  t.ok([200, 202].includes(install.status), `install answered ${install.status}`);
  const location = install.headers.location;
  if (location) {
    // The signed URL as handed out (with the user's token: on-behalf-of needs a user to act for).
    const polled = await stack.request('GET', location.slice(stack.baseUrl.length), { headers: auth });
    // Its status is not the point here (with obo the shared poller has no user to act for yet);
    // the signed URL passing through the logs is.
    t.comment(`wait URL answered ${polled.status}`);
  }
  const dryRun = await stack.request('PUT', '/v1/tenant-isolation/rules/fabrikam.onmicrosoft.com?dryRun=true', {
    headers: auth,
    body: { direction: 'Both' },
  });
  t.ok(dryRun.status < 500, `dry run answered ${dryRun.status}`);
  t.equal((await stack.request('GET', '/v1/tenant-isolation', { headers: { 'x-api-key': '', authorization: 'Bearer x.y.z' } })).status, 401);

  const log = cap.text();
  t.ok(log.includes('admin@contoso.com'), 'the user is named in the log');
  const secrets = [stack.apiKey, stack.sim.relayApp.clientSecret, stack.config.waitUrlSecret!, user];
  for (const s of secrets) t.notOk(log.includes(s), `secret ${s.slice(0, 8)}… is not in the log`);
  t.notMatch(log, /eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}/, 'no JWT of any kind (incoming, OBO or upstream tokens)');
  t.notMatch(log, /sig=\d+\.[\w-]{20,}/, 'no wait-URL signature');
});

t.test("every line of a request names it (reqId) and, once known, the caller; another request's lines do not mix in", async (t) => {
  const { startStack } = await import('../helpers/stack.js');
  const cap = captureLogs(loggerOptions('info'));
  const stack = await startStack({ logger: cap.logger });
  t.teardown(() => stack.close());
  await stack.request('GET', '/v1/environments', { headers: { 'x-correlation-id': 'first-request' } });
  await stack.request('GET', '/v1/environments', { headers: { 'x-correlation-id': 'second-request', 'x-api-key': 'not-a-key-0123456789' } });
  const lines = cap.lines<{ reqId?: string; msg?: string; caller?: { name?: string } }>();
  const of = (id: string) => lines.filter((l) => l.reqId === id);
  t.same(of('first-request').map((l) => l.msg), ['incoming request', 'request completed']);
  t.equal(of('first-request')[1]?.caller?.name, 'demo', 'the caller joins once authenticated');
  t.ok(of('second-request').length >= 2, 'the refused request has its own lines');
  t.notOk(of('second-request').some((l) => l.caller), 'no caller carried over from the first request');
});
