import { ClientCertificateCredential, ClientSecretCredential, OnBehalfOfCredential } from '@azure/identity';
import { createLocalJWKSet, jwtVerify } from 'jose';
import t from 'tap';
import { startSimulator } from '../../src/simulator/index.js';
import { BAP_SCOPE, call, closeAll, decodeJwt, PPAPI_SCOPE } from './helpers.js';

const sim = await startSimulator();
t.teardown(() => closeAll(sim));
const tokenPath = `/${sim.tenantId}/oauth2/v2.0/token`;

t.test('OpenID discovery by tenant id and by domain; unknown domain is 400 invalid_tenant', async (t) => {
  const byId = await call(sim, 'GET', `/${sim.tenantId}/v2.0/.well-known/openid-configuration`);
  t.equal(byId.status, 200);
  t.equal(byId.json.issuer, `${sim.origin}/${sim.tenantId}/v2.0`);
  t.equal(byId.json.token_endpoint, `${sim.origin}/${sim.tenantId}/oauth2/v2.0/token`);
  t.ok(byId.json.authorization_endpoint);
  t.equal(byId.json.jwks_uri, `${sim.origin}/${sim.tenantId}/discovery/v2.0/keys`);
  t.ok(byId.headers['x-ms-correlation-id'], 'correlation id on every response');

  const byDomain = await call(sim, 'GET', '/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration');
  t.equal(byDomain.json.issuer, byId.json.issuer, 'a seeded domain resolves to its tenant');
  const other = await call(sim, 'GET', '/FABRIKAM.onmicrosoft.com/v2.0/.well-known/openid-configuration');
  t.match(
    other.json.issuer,
    /\/2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3\/v2\.0$/,
    'domains are case-insensitive',
  );

  const common = await call(sim, 'GET', '/organizations/v2.0/.well-known/openid-configuration');
  t.equal(common.json.issuer, `${sim.origin}/{tenantid}/v2.0`, 'multi-tenant endpoints use the placeholder');

  const unknown = await call(sim, 'GET', '/nowhere.onmicrosoft.com/v2.0/.well-known/openid-configuration');
  t.equal(unknown.status, 400);
  t.equal(unknown.json.error, 'invalid_tenant');
  t.match(unknown.json.error_description, /^AADSTS90002/);
});

t.test('client credentials with a secret: audiences per scope, claims, JWKS verifies', async (t) => {
  const jwks = await call(sim, 'GET', `/${sim.tenantId}/discovery/v2.0/keys`);
  t.equal(jwks.status, 200);
  const keySet = createLocalJWKSet(jwks.json);
  for (const [scope, aud] of [
    [PPAPI_SCOPE, 'https://api.powerplatform.com'],
    [BAP_SCOPE, 'https://service.powerapps.com/'],
  ] as const) {
    const res = await call(sim, 'POST', tokenPath, {
      form: {
        grant_type: 'client_credentials',
        client_id: sim.relayApp.clientId,
        client_secret: sim.relayApp.clientSecret,
        scope,
      },
    });
    t.equal(res.status, 200);
    t.equal(res.json.token_type, 'Bearer');
    t.ok(res.json.expires_in > 3000);
    const { payload, protectedHeader } = await jwtVerify(res.json.access_token, keySet, {
      issuer: `${sim.origin}/${sim.tenantId}/v2.0`,
      audience: aud,
    });
    t.equal(protectedHeader.alg, 'RS256');
    t.ok(protectedHeader.kid);
    t.equal(payload['tid'], sim.tenantId);
    t.equal(payload['appid'], sim.relayApp.clientId);
    t.equal(payload['azp'], sim.relayApp.clientId);
    t.ok(payload['oid']);
    t.same(payload['roles'], []);
    t.ok(payload.iat && payload.nbf && payload.exp);
  }
});

t.test('token endpoint errors use the OAuth shape', async (t) => {
  const base = { grant_type: 'client_credentials', client_id: sim.relayApp.clientId, scope: PPAPI_SCOPE };
  const badSecret = await call(sim, 'POST', tokenPath, { form: { ...base, client_secret: 'nope' } });
  t.equal(badSecret.status, 401);
  t.equal(badSecret.json.error, 'invalid_client');
  t.same(badSecret.json.error_codes, [7000215]);
  t.match(
    badSecret.json.error_description,
    /^AADSTS7000215: [^\r\n]+\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/,
    'message, trace id, correlation id and timestamp on lines of their own, as Entra sends them',
  );
  t.equal(badSecret.json.trace_id, /Trace ID: (\S+)/.exec(badSecret.json.error_description)?.[1]);
  sim.control.setOption('entraErrorSeparator', 'space');
  const spaced = await call(sim, 'POST', tokenPath, { form: { ...base, client_secret: 'nope' } });
  t.notMatch(spaced.json.error_description, /\r\n/, 'the older one-line style on request');
  t.match(spaced.json.error_description, / Trace ID: /);
  sim.control.setOption('entraErrorSeparator', 'crlf');

  const unknownApp = await call(sim, 'POST', tokenPath, {
    form: { ...base, client_id: '00000000-0000-4000-8000-000000000000', client_secret: 'x' },
  });
  t.equal(unknownApp.status, 400);
  t.equal(unknownApp.json.error, 'unauthorized_client');

  const noDefault = await call(sim, 'POST', tokenPath, {
    form: {
      ...base,
      client_secret: sim.relayApp.clientSecret,
      scope: 'https://api.powerplatform.com/AppManagement.ApplicationPackages.Read',
    },
  });
  t.equal(noDefault.status, 400);
  t.equal(noDefault.json.error, 'invalid_scope');

  const badGrant = await call(sim, 'POST', tokenPath, {
    form: { ...base, client_secret: sim.relayApp.clientSecret, grant_type: 'password' },
  });
  t.equal(badGrant.json.error, 'unsupported_grant_type');

  const unknownTenant = await call(sim, 'POST', '/nowhere.example/oauth2/v2.0/token', {
    form: { ...base, client_secret: sim.relayApp.clientSecret },
  });
  t.equal(unknownTenant.status, 400);
  t.equal(unknownTenant.json.error, 'invalid_tenant');
});

t.test('on-behalf-of: a user token for the relay becomes a delegated upstream token', async (t) => {
  const user = await sim.control.mintToken({
    audience: `api://${sim.relayApp.clientId}`,
    oid: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
    upn: 'megan@contoso.onmicrosoft.com',
    scp: 'access_as_user',
  });
  const obo = {
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    client_id: sim.relayApp.clientId,
    client_secret: sim.relayApp.clientSecret,
    requested_token_use: 'on_behalf_of',
    scope: PPAPI_SCOPE,
  };
  const res = await call(sim, 'POST', tokenPath, { form: { ...obo, assertion: user } });
  t.equal(res.status, 200, 'OBO token issued');
  const claims = decodeJwt(res.json.access_token);
  t.equal(claims['aud'], 'https://api.powerplatform.com');
  t.equal(claims['oid'], '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d');
  t.equal(claims['upn'], 'megan@contoso.onmicrosoft.com');
  t.match(claims['scp'], /AppManagement\.ApplicationPackages\.Install/);
  t.equal(claims['appid'], sim.relayApp.clientId);

  const wrongAud = await sim.control.mintToken({
    audience: 'https://someone.else',
    upn: 'x@contoso.com',
    scp: 'a',
  });
  const refused = await call(sim, 'POST', tokenPath, { form: { ...obo, assertion: wrongAud } });
  t.equal(refused.status, 400);
  t.equal(refused.json.error, 'invalid_grant');

  const expired = await sim.control.mintToken({
    audience: sim.relayApp.clientId,
    scp: 'a',
    expiresInSeconds: -120,
  });
  const late = await call(sim, 'POST', tokenPath, { form: { ...obo, assertion: expired } });
  t.equal(late.json.error, 'invalid_grant');
  t.same(late.json.error_codes, [500133]);
});

t.test('mintToken honours every option', async (t) => {
  const token = await sim.control.mintToken({
    audience: 'api://relay',
    tenantId: '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3',
    roles: ['Packages.Install'],
    appid: 'caller-app',
    kid: 'other-kid',
    issuer: 'https://elsewhere/v2.0',
    notBeforeOffsetSeconds: 60,
    extraClaims: { custom: 1 },
  });
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
  t.equal(header.kid, 'other-kid');
  const claims = decodeJwt(token);
  t.equal(claims['tid'], '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3');
  t.equal(claims['iss'], 'https://elsewhere/v2.0');
  t.same(claims['roles'], ['Packages.Install']);
  t.equal(claims['custom'], 1);
  t.ok((claims['nbf'] as number) > (claims['iat'] as number));
});

// The real @azure/identity credentials, unchanged: authorityHost = the simulator, instance discovery off,
// and the simulator's CA passed through the pipeline's `tlsOptions` (no NODE_EXTRA_CA_CERTS needed).
t.test('@azure/identity ClientSecretCredential and ClientCertificateCredential get tokens', async (t) => {
  const options = {
    authorityHost: sim.origin,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: sim.caCertPem },
  };
  const secret = new ClientSecretCredential(
    sim.tenantId,
    sim.relayApp.clientId,
    sim.relayApp.clientSecret,
    options,
  );
  const ppapi = await secret.getToken(PPAPI_SCOPE);
  t.equal(decodeJwt(ppapi.token)['aud'], 'https://api.powerplatform.com');
  t.ok(ppapi.expiresOnTimestamp > Date.now());
  const bap = await secret.getToken(BAP_SCOPE);
  t.equal(decodeJwt(bap.token)['aud'], 'https://service.powerapps.com/');

  const cert = new ClientCertificateCredential(
    sim.tenantId,
    sim.relayApp.clientId,
    { certificatePath: sim.relayApp.certificatePath },
    options,
  );
  const certToken = await cert.getToken(PPAPI_SCOPE);
  const claims = decodeJwt(certToken.token);
  t.equal(claims['appidacr'], '2', 'certificate sign-in is marked as such');

  const wrong = new ClientSecretCredential(sim.tenantId, sim.relayApp.clientId, 'wrong', options);
  await t.rejects(wrong.getToken(PPAPI_SCOPE), /AADSTS7000215/);

  const byDomain = new ClientSecretCredential(
    'contoso.onmicrosoft.com',
    sim.relayApp.clientId,
    sim.relayApp.clientSecret,
    options,
  );
  t.equal(
    decodeJwt((await byDomain.getToken(PPAPI_SCOPE)).token)['tid'],
    sim.tenantId,
    'a domain works as the tenant',
  );

  const user = await sim.control.mintToken({
    audience: `api://${sim.relayApp.clientId}`,
    upn: 'megan@contoso.onmicrosoft.com',
    scp: 'access_as_user',
  });
  const obo = new OnBehalfOfCredential({
    tenantId: sim.tenantId,
    clientId: sim.relayApp.clientId,
    certificatePath: sim.relayApp.certificatePath,
    userAssertionToken: user,
    ...options,
  });
  const delegated = decodeJwt((await obo.getToken(BAP_SCOPE)).token);
  t.equal(delegated['upn'], 'megan@contoso.onmicrosoft.com', 'OnBehalfOfCredential gets a delegated token');
  t.equal(delegated['scp'], 'user_impersonation');

  const assertions = sim.control.calls({ route: 'entra.token' });
  t.ok(assertions.length >= 3, 'token calls are in the call log');
});
