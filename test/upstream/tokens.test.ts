// Tokens from the real @azure/identity credentials against the simulator's Entra endpoints over
// HTTPS: fetched once per scope and reused, shared by concurrent callers, certificate credential,
// on-behalf-of per user, and a token failure that says which credential and what Entra said.
import t from 'tap';
import { UpstreamError } from '../../src/upstream/errors.js';
import { startUpstreamFixture } from '../helpers/upstream-fixture.js';

const SALES = '3f2e1d0c-9b8a-4776-a554-433221100ffe';

t.test('tokens', async (t) => {
  const fx = await startUpstreamFixture();
  t.teardown(() => fx.close());
  const tokenCalls = () => fx.sim.control.calls({ route: 'entra.token' }).length;

  t.test('one token per scope, reused across calls', async (t) => {
    const up = fx.clients();
    const before = tokenCalls();
    const ready = await up.checkReady(fx.ctx());
    t.ok(ready.ok, ready.detail);
    t.match(ready.detail, /client secret credential/);
    t.equal(tokenCalls() - before, 2, 'one for PPAPI, one for BAP');
    for (let i = 0; i < 4; i++) {
      await up.appManagement.listEnvironmentPackages(SALES, {}, fx.ctx());
      await up.environments.list(fx.ctx());
    }
    t.equal(tokenCalls() - before, 2, 'no new token for later calls');
  });

  t.test('concurrent first calls share one token request', async (t) => {
    const up = fx.clients();
    const before = tokenCalls();
    await Promise.all(Array.from({ length: 8 }, () => up.appManagement.listEnvironmentPackages(SALES, {}, fx.ctx())));
    t.equal(tokenCalls() - before, 1);
  });

  t.test('certificate credential', async (t) => {
    const up = fx.clients({ AZURE_CLIENT_SECRET: '', AZURE_CLIENT_CERTIFICATE_PATH: fx.sim.relayApp.certificatePath });
    const before = tokenCalls();
    const ready = await up.checkReady(fx.ctx());
    t.ok(ready.ok);
    t.match(ready.detail, /client certificate credential/);
    t.equal(tokenCalls() - before, 2);
    const list = await up.appManagement.listEnvironmentPackages(SALES, {}, fx.ctx());
    t.ok(list.length > 0);
  });

  t.test('a wrong secret is a token error naming the credential and quoting Entra', async (t) => {
    const up = fx.clients({ AZURE_CLIENT_SECRET: 'not-the-secret' });
    const tenantCalls = fx.sim.control.calls({ route: 'bap.tenant' }).length;
    const err = await up.tenant.getOwnTenantId(fx.ctx()).catch((e) => e);
    t.type(err, UpstreamError);
    t.equal(err.kind, 'token');
    t.equal(err.surface, 'entra');
    t.match(err.message, /client secret credential/);
    t.match(err.message, /Entra ID said: .+/);
    t.match(err.message, /service\.powerapps\.com/, 'names the scope');
    t.equal(fx.sim.control.calls({ route: 'bap.tenant' }).length, tenantCalls, 'upstream never called without a token');
    // Entra puts the trace and correlation ids on lines of their own: they must survive.
    t.notMatch(err.message, /[\r\n]/, 'one line, no stray carriage return');
    t.match(err.message, /AADSTS7000215: Invalid client secret provided\..*\(trace id [0-9a-f-]{36}, correlation id [0-9a-f-]{36}\)$/);
    t.match(err.details.extra, {
      error: 'invalid_client',
      aadstsCode: 'AADSTS7000215',
      message: /^Invalid client secret provided\./,
      traceId: /^[0-9a-f-]{36}$/,
      correlationId: /^[0-9a-f-]{36}$/,
    });
    t.notMatch(err.details.extra.message, /\r/);
  });

  t.test('the older one-line Entra description keeps the ids too', async (t) => {
    fx.sim.control.setOption('entraErrorSeparator', 'space');
    t.teardown(() => fx.sim.control.setOption('entraErrorSeparator', 'crlf'));
    const up = fx.clients({ AZURE_CLIENT_SECRET: 'not-the-secret' });
    const err = await up.tenant.getOwnTenantId(fx.ctx()).catch((e) => e);
    t.match(err.details.extra, { aadstsCode: 'AADSTS7000215', traceId: /^[0-9a-f-]{36}$/, correlationId: /^[0-9a-f-]{36}$/ });
  });

  t.test('on-behalf-of: one token per user, none without a user', async (t) => {
    const up = fx.clients({ UPSTREAM_AUTH: 'obo' });
    const clientId = fx.sim.relayApp.clientId;
    const alice = await fx.sim.control.mintToken({ audience: `api://${clientId}`, oid: '00000000-0000-4000-8000-00000000a11c', upn: 'alice@contoso.com', scp: 'user_impersonation' });
    const bob = await fx.sim.control.mintToken({ audience: `api://${clientId}`, oid: '00000000-0000-4000-8000-000000000b0b', upn: 'bob@contoso.com', scp: 'user_impersonation' });
    const before = tokenCalls();
    await up.appManagement.listEnvironmentPackages(SALES, {}, fx.ctx({ userAssertion: alice }));
    await up.appManagement.listEnvironmentPackages(SALES, {}, fx.ctx({ userAssertion: alice }));
    t.equal(tokenCalls() - before, 1, 'alice: one exchange');
    await up.appManagement.listEnvironmentPackages(SALES, {}, fx.ctx({ userAssertion: bob }));
    t.equal(tokenCalls() - before, 2, 'bob gets his own');
    const err = await up.appManagement.listEnvironmentPackages(SALES, {}, fx.ctx()).catch((e) => e);
    t.equal(err.kind, 'token');
    t.match(err.message, /UPSTREAM_AUTH=obo/);
    const ready = await up.checkReady(fx.ctx());
    t.ok(ready.ok, 'readiness without a user checks Entra discovery');
  });
});
