// AUTH_MODE=entra: which tokens get in, and that every refusal says why with the right status.
import { SignJWT } from 'jose';
import { exportSPKI } from 'jose';
import t from 'tap';
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

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

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

const refusals: Array<[string, () => Promise<string>, number, RegExp]> = [
  ['expired', () => entra.mintToken({ roles: ['packages.read'], expiresInSeconds: -120 }), 401, /expired/],
  ['not yet valid', () => entra.mintToken({ roles: ['packages.read'], notBeforeOffsetSeconds: 600 }), 401, /not valid yet/],
  ['wrong audience', () => entra.mintToken({ roles: ['packages.read'], audience: 'https://graph.microsoft.com' }), 401, /audience/],
  ['wrong issuer', () => entra.mintToken({ roles: ['packages.read'], issuer: 'https://evil.example/' }), 401, /issuer/],
  [
    'another tenant',
    () => entra.mintToken({ roles: ['packages.read'], tenantId: '99999999-9999-4999-8999-999999999999' }),
    401,
    /ENTRA_ALLOWED_TENANTS/,
  ],
  ['unknown kid', () => entra.mintToken({ roles: ['packages.read'], kid: 'not-a-known-key' }), 401, /kid/],
  [
    'alg none',
    async () => {
      const now = Math.floor(Date.now() / 1000);
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ tid: entra.tenantId, aud: AUDIENCE, iss: `https://sts.windows.net/${entra.tenantId}/`, exp: now + 600, roles: ['packages.read'] })}.`;
    },
    401,
    /RS256/,
  ],
  [
    'HS256 signed with the public key',
    async () =>
      new SignJWT({ tid: entra.tenantId, roles: ['packages.read'] })
        .setProtectedHeader({ alg: 'HS256', kid: entra.kid })
        .setIssuer(`https://sts.windows.net/${entra.tenantId}/`)
        .setAudience(AUDIENCE)
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(await exportSPKI(entra.publicKey))),
    401,
    /RS256/,
  ],
  ['a tampered signature', async () => `${(await entra.mintToken({ roles: ['packages.read'] })).slice(0, -6)}AAAAAA`, 401, /signature/],
  ['not a JWT', async () => 'hello', 401, /well-formed/],
  ['missing role', () => entra.mintToken({ roles: ['isolation.read'] }), 403, /packages\.read/],
];

for (const [name, mint, status, why] of refusals) {
  t.test(`refused: ${name} → ${status}`, async (t) => {
    const res = await get(await mint());
    t.equal(res.statusCode, status, res.body);
    const body = res.json();
    t.match(body.error.message, why);
    t.equal(body.error.correlationId, res.headers['x-correlation-id']);
    if (status === 401) {
      t.match(String(res.headers['www-authenticate']), /^Bearer realm="admin-relay".*error="invalid_token", error_description="/);
    } else {
      t.match(String(res.headers['www-authenticate']), /error="insufficient_scope".*scope="packages.read"/);
      t.equal(body.error.target, 'packages.read');
      t.match(body.error.message, /app role packages\.read/);
    }
  });
}

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
  t.equal((await get(undefined, '/v1/probe/read?sig=123.abc')).statusCode, 401, 'only on routes that accept it');
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
