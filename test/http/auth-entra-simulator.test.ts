// AUTH_MODE=entra against the simulator's Entra ID: tokens minted by the simulator, verified with
// its JWKS over HTTPS (its own CA), on the real /v1 routes. Then UPSTREAM_AUTH=obo: the user's
// token is exchanged on-behalf-of and Power Platform sees the user, not the relay's app.
import { exportSPKI, importJWK, SignJWT } from 'jose';
import t from 'tap';
import { Agent, request } from 'undici';
import { defaultSeed } from '../../src/simulator/index.js';
import { startStack } from '../helpers/stack.js';

const CLIENT_ID = defaultSeed().relayApp.clientId;
const APP_ID_URI = `api://${CLIENT_ID}`;
const ENTRA_ENV = { AUTH_MODE: 'entra', ENTRA_AUDIENCE: `${APP_ID_URI},${CLIENT_ID}` };
const POLICY = '/v1/tenant-isolation';

const stack = await startStack({ env: ENTRA_ENV });
t.teardown(() => stack.close());
const { sim } = stack;

const call = (token?: string, path = POLICY) =>
  stack.request('GET', path, { headers: { 'x-api-key': '', ...(token && { authorization: `Bearer ${token}` }) } });
const mint = (o: Partial<Parameters<typeof sim.control.mintToken>[0]> = {}) =>
  sim.control.mintToken({ audience: APP_ID_URI, tenantId: sim.tenantId, ...o });
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

t.test('a user token with the scope is accepted (v2 issuer, app id URI audience)', async (t) => {
  const res = await call(await mint({ upn: 'admin@contoso.com', scp: 'isolation.read', oid: '22222222-2222-4222-8222-222222222222' }));
  t.equal(res.status, 200, JSON.stringify(res.body));
  t.equal(res.body.tenantId, sim.tenantId);
});

t.test('an app token with the app role is accepted, v1 issuer and client-id audience too', async (t) => {
  const res = await call(
    await mint({ appid: 'flows', roles: ['Isolation.Read'], audience: CLIENT_ID, issuer: `https://sts.windows.net/${sim.tenantId}/` }),
  );
  t.equal(res.status, 200, JSON.stringify(res.body));
});

const OTHER_TENANT = defaultSeed().otherTenants[0]!.tenantId;
const refusals: Array<[string, () => Promise<string>, number, RegExp]> = [
  ['expired', () => mint({ roles: ['isolation.read'], expiresInSeconds: -300 }), 401, /expired/],
  ['not yet valid', () => mint({ roles: ['isolation.read'], notBeforeOffsetSeconds: 900 }), 401, /not valid yet/],
  ['wrong audience', () => mint({ roles: ['isolation.read'], audience: 'https://api.powerplatform.com' }), 401, /audience/],
  ['wrong issuer', () => mint({ roles: ['isolation.read'], issuer: `https://login.example.com/${sim.tenantId}/v2.0` }), 401, /issuer/],
  ['another tenant', () => mint({ roles: ['isolation.read'], tenantId: OTHER_TENANT }), 401, /ENTRA_ALLOWED_TENANTS/],
  ['unknown kid', () => mint({ roles: ['isolation.read'], kid: 'rotated-away' }), 401, /kid/],
  [
    'alg none',
    async () => {
      const now = Math.floor(Date.now() / 1000);
      const claims = { tid: sim.tenantId, aud: APP_ID_URI, iss: `${sim.origin}/${sim.tenantId}/v2.0`, exp: now + 600, nbf: now, roles: ['isolation.read'] };
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    },
    401,
    /RS256/,
  ],
  [
    'HS256 signed with the public key',
    async () => {
      const res = await request(`${sim.origin}/${sim.tenantId}/discovery/v2.0/keys`, { dispatcher: new Agent({ connect: { ca: sim.caCertPem } }) });
      const jwk = ((await res.body.json()) as { keys: Array<Record<string, string>> }).keys[0]!;
      const pem = await exportSPKI((await importJWK(jwk, 'RS256')) as CryptoKey);
      return new SignJWT({ tid: sim.tenantId, roles: ['isolation.read'] })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: jwk.kid })
        .setIssuer(`${sim.origin}/${sim.tenantId}/v2.0`)
        .setAudience(APP_ID_URI)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(pem));
    },
    401,
    /RS256/,
  ],
  ['missing role', () => mint({ appid: 'flows', roles: ['packages.read'] }), 403, /isolation\.read/],
  ['a user without the scope', () => mint({ upn: 'someone@contoso.com', scp: 'packages.read' }), 403, /isolation\.read/],
];

for (const [name, token, status, why] of refusals) {
  t.test(`refused: ${name} → ${status}`, async (t) => {
    const res = await call(await token());
    t.equal(res.status, status, JSON.stringify(res.body));
    t.match(res.body.error.message, why);
    t.equal(res.body.error.correlationId, res.headers['x-correlation-id']);
    const challenge = res.headers['www-authenticate'] ?? '';
    if (status === 401) t.match(challenge, /^Bearer realm="admin-relay", .*error="invalid_token", error_description="/);
    else t.match(challenge, /error="insufficient_scope".*scope="isolation.read"/);
  });
}

t.test('no token → 401 with a Bearer challenge pointing at the authority', async (t) => {
  const res = await call();
  t.equal(res.status, 401);
  t.match(res.headers['www-authenticate'], new RegExp(`authorization_uri="${sim.origin}/${sim.tenantId}/oauth2/v2.0/authorize"`));
});

t.test('the JWKS is fetched once for many requests', async (t) => {
  const before = sim.control.calls({ route: 'entra.jwks' }).length;
  for (let i = 0; i < 5; i++) t.equal((await call(await mint({ appid: 'flows', roles: ['isolation.read'] }))).status, 200);
  t.equal(sim.control.calls({ route: 'entra.jwks' }).length, before);
});

t.test('UPSTREAM_AUTH=obo: upstream is called on behalf of the user', async (t) => {
  const obo = await startStack({ env: { ...ENTRA_ENV, UPSTREAM_AUTH: 'obo' } });
  t.teardown(() => obo.close());
  // With no management application registered, BAP refuses the relay's own app-only token, so a
  // 200 proves the upstream token was a user token obtained on behalf of the caller.
  obo.sim.control.setOption('registeredClientIds', []);
  const userToken = await obo.sim.control.mintToken({
    audience: APP_ID_URI,
    tenantId: obo.sim.tenantId,
    upn: 'admin@contoso.com',
    scp: 'isolation.read',
  });
  const tokenCallsBefore = obo.sim.control.calls({ route: 'entra.token' }).length;
  const res = await obo.request('GET', POLICY, { headers: { 'x-api-key': '', authorization: `Bearer ${userToken}` } });
  t.equal(res.status, 200, JSON.stringify(res.body));
  t.ok(obo.sim.control.calls({ route: 'entra.token' }).length > tokenCallsBefore, 'a token was requested for the user');

  // The same call with the relay's own identity is refused by upstream: the control experiment.
  const app = await startStack({ env: ENTRA_ENV });
  t.teardown(() => app.close());
  app.sim.control.setOption('registeredClientIds', []);
  const appToken = await app.sim.control.mintToken({ audience: APP_ID_URI, tenantId: app.sim.tenantId, upn: 'admin@contoso.com', scp: 'isolation.read' });
  const refused = await app.request('GET', POLICY, { headers: { 'x-api-key': '', authorization: `Bearer ${appToken}` } });
  t.equal(refused.status, 403, JSON.stringify(refused.body));
});


t.test('with the simulator and no ENTRA_AUDIENCE, tokens for the relay app are accepted', async (t) => {
  const demo = await startStack({ env: { AUTH_MODE: 'entra' } });
  t.teardown(() => demo.close());
  const token = await demo.sim.control.mintToken({ audience: APP_ID_URI, tenantId: demo.sim.tenantId, appid: 'flows', roles: ['isolation.read'] });
  const res = await demo.request('GET', POLICY, { headers: { 'x-api-key': '', authorization: `Bearer ${token}` } });
  t.equal(res.status, 200, JSON.stringify(res.body));
  const other = await demo.sim.control.mintToken({ audience: 'api://someone-else', tenantId: demo.sim.tenantId, roles: ['isolation.read'] });
  t.equal((await demo.request('GET', POLICY, { headers: { 'x-api-key': '', authorization: `Bearer ${other}` } })).status, 401);
});

t.test('the Entra caller (upn, oid, tid) is the actor in the audit trail', async (t) => {
  const oid = '33333333-3333-4333-8333-333333333333';
  const token = await mint({ upn: 'auditor@contoso.com', oid, scp: 'isolation.read isolation.write' });
  const headers = { 'x-api-key': '', authorization: `Bearer ${token}` };
  const change = await stack.request('PUT', '/v1/tenant-isolation/rules/fabrikam.onmicrosoft.com', {
    headers,
    body: { direction: 'Both', dryRun: true, reason: 'who did this' },
  });
  t.equal(change.status, 200, JSON.stringify(change.body));
  const changes = await stack.request('GET', '/v1/tenant-isolation/changes', { headers });
  const record = (changes.body.value as Array<{ actor: string; reason: string | null }>).find((r) => r.reason === 'who did this');
  t.ok(record, 'the dry run is in the audit trail');
  t.equal(record?.actor, `user:auditor@contoso.com (oid=${oid}, tid=${sim.tenantId})`);
});
