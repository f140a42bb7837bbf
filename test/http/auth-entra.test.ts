// AUTH_MODE=entra, the parts the simulator cannot show: probe routes for signed wait URLs and routes
// that forgot their permission, key rollover, an unreachable JWKS. A local JWKS on 127.0.0.1 stands
// in for Entra here; the token matrix against the simulator is in auth-entra-simulator.test.ts.
import t from 'tap';
import { createEntraVerifier, EntraTokenError } from '../../src/http/entra.js';
import { startLocalEntra } from './support/local-entra.js';
import { buildProbeApp } from './support/probe-app.js';

const AUDIENCE = 'api://admin-relay';
const CLIENT_ID = '6f1c7a0e-59c4-4a3c-9d52-2b1d0c6f7a11';

const entra = await startLocalEntra();
t.teardown(() => entra.close());
const app = await buildProbeApp({
  AUTH_MODE: 'entra',
  AZURE_AUTHORITY_HOST: entra.origin,
  ENTRA_AUDIENCE: `${AUDIENCE},${CLIENT_ID}`,
  ENTRA_ALLOWED_TENANTS: entra.tenantId,
});
t.teardown(() => app.close());

const get = (token?: string, url = '/v1/probe/read') =>
  app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

t.test('a valid delegated token with the scope is accepted and names the user', async (t) => {
  const token = await entra.mintToken({ upn: 'admin@contoso.com', scp: 'packages.read', oid: '11111111-1111-1111-1111-111111111111' });
  const res = await get(token);
  t.equal(res.statusCode, 200, res.body);
  t.same(res.json(), { kind: 'user', id: '11111111-1111-1111-1111-111111111111', name: 'admin@contoso.com', tenantId: entra.tenantId, hasBearerToken: false });
});

t.test('an app-only token with the app role is accepted, as a v2 token for the client id too', async (t) => {
  const v1 = await entra.mintToken({ appid: 'flow-app', roles: ['packages.read'] });
  t.equal((await get(v1)).json().kind, 'app');
  t.equal((await get(v1)).json().name, 'flow-app');
  const v2 = await entra.mintToken({
    audience: CLIENT_ID,
    issuer: `${entra.origin}/${entra.tenantId}/v2.0`,
    roles: ['Packages.Read'],
    extraClaims: { azp: 'flow-app-v2' },
  });
  const res = await get(v2);
  t.equal(res.statusCode, 200, res.body);
  t.equal(res.json().name, 'flow-app-v2');
});

t.test('no credentials → 401 with a bare Bearer challenge (RFC 6750: no error code)', async (t) => {
  const res = await get();
  t.equal(res.statusCode, 401);
  t.equal(res.json().error.code, 'AuthenticationRequired');
  t.match(String(res.headers['www-authenticate']), /^Bearer realm="admin-relay", authorization_uri="/);
  t.notMatch(String(res.headers['www-authenticate']), /error=/);
});

t.test('an API key is not accepted in entra mode, and the answer says what to send', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/v1/probe/read', headers: { 'x-api-key': 'whatever' } });
  t.equal(res.statusCode, 401);
  t.match(res.json().error.message, /Authorization: Bearer/);
});

t.test('a signed wait URL is let through without credentials (the route checks sig itself)', async (t) => {
  const res = await get(undefined, '/v1/probe/wait?sig=123.abc');
  t.equal(res.statusCode, 200);
  t.equal(res.json().kind, 'waitToken');
  const bad = await get('garbage', '/v1/probe/wait?sig=123.abc');
  t.equal(bad.json().kind, 'waitToken', 'bad connection credentials do not spoil a signed wait URL');
  const withToken = await get(await entra.mintToken({ roles: ['packages.read'], appid: 'a' }), '/v1/probe/wait?sig=1.x');
  t.equal(withToken.json().kind, 'app', 'valid credentials still win');
  const lacking = await get(await entra.mintToken({ roles: ['isolation.read'], appid: 'a' }), '/v1/probe/wait?sig=1.x');
  t.equal(lacking.json().kind, 'waitToken', 'credentials without the permission fall back to the signature');
  t.equal((await get(undefined, '/v1/probe/read?sig=123.abc')).statusCode, 401, 'only on routes that accept it');
  for (const q of ['%73ig=1.x', 's%69g=1.x', 'sig=1.x&sig=2.y', 'sig=', 'x=1']) {
    t.equal((await get(undefined, `/v1/probe/wait?${q}`)).statusCode, 401, `?${q} is not a signature`);
  }
});

t.test('a /v1 route without a declared permission fails closed', async (t) => {
  const res = await get(await entra.mintToken({ roles: ['packages.read', 'packages.install', 'isolation.read', 'isolation.write'] }), '/v1/probe/unprotected');
  t.equal(res.statusCode, 500);
  t.equal(res.json().error.code, 'RoutePermissionMissing');
});

t.test('service endpoints need no credentials; unknown /v1 paths need them', async (t) => {
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
  t.equal((await app.inject({ url: '/metrics' })).statusCode, 200);
  t.equal((await app.inject({ url: '/v1/nothing-here' })).statusCode, 401);
  const token = await entra.mintToken({ roles: ['packages.read'] });
  t.equal((await get(token, '/v1/nothing-here')).statusCode, 404);
});

t.test('the signing keys are fetched once and cached', async (t) => {
  const before = entra.jwksFetches();
  for (let i = 0; i < 5; i++) await get(await entra.mintToken({ roles: ['packages.read'] }));
  t.equal(entra.jwksFetches(), before);
});

t.test('key rollover: a token signed with a new key is accepted after one refetch', async (t) => {
  const local = await startLocalEntra();
  t.teardown(() => local.close());
  const verifier = createEntraVerifier({
    authorityHost: local.origin,
    audiences: [AUDIENCE],
    allowedTenants: [local.tenantId],
    refetchCooldownMs: 0,
  });
  t.equal((await verifier.verify(await local.mintToken({ roles: ['packages.read'] }))).permissions.has('packages.read'), true);
  t.equal(local.jwksFetches(), 1);
  await local.rotate();
  const identity = await verifier.verify(await local.mintToken({ roles: ['isolation.write'] }));
  t.same([...identity.permissions], ['isolation.write']);
  t.equal(local.jwksFetches(), 2, 'the unknown kid caused exactly one refetch');
  const stale = await verifier.verify(await local.mintToken({ kid: 'never-published' })).catch((e: unknown) => e);
  t.equal((stale as EntraTokenError).reason, 'unknown_key');
});

t.test('signing keys that cannot be loaded → 503 with Retry-After, not a 401 blaming the caller', async (t) => {
  const gone = await startLocalEntra();
  await gone.close();
  const verifier = createEntraVerifier({ authorityHost: gone.origin, audiences: [AUDIENCE], allowedTenants: [gone.tenantId] });
  const err = await verifier.verify(await gone.mintToken({})).catch((e: unknown) => e);
  t.ok(err instanceof EntraTokenError && err.unavailable, 'marked as our problem');
  const deadApp = await buildProbeApp({
    AUTH_MODE: 'entra',
    AZURE_AUTHORITY_HOST: gone.origin,
    ENTRA_AUDIENCE: AUDIENCE,
    ENTRA_ALLOWED_TENANTS: gone.tenantId,
  });
  t.teardown(() => deadApp.close());
  const res = await deadApp.inject({ url: '/v1/probe/read', headers: { authorization: `Bearer ${await gone.mintToken({ roles: ['packages.read'] })}` } });
  t.equal(res.statusCode, 503);
  t.equal(res.json().error.code, 'AuthenticationUnavailable');
  t.equal(res.headers['retry-after'], '5');
});

t.test('permissions: roles and scopes, any case; unrelated values ignored', async (t) => {
  const token = await entra.mintToken({ upn: 'u@contoso.com', roles: ['ISOLATION.WRITE', 'Admin'], scp: 'Packages.Read user_impersonation' });
  const res = await get(token);
  t.equal(res.statusCode, 200);
  const write = await app.inject({ method: 'POST', url: '/v1/probe/write', headers: { authorization: `Bearer ${token}` }, payload: {} });
  t.equal(write.statusCode, 200);
  const none = await entra.mintToken({ upn: 'u@contoso.com', scp: 'user_impersonation' });
  t.equal((await get(none)).statusCode, 403);
});
