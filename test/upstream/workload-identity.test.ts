// Workload identity (a federated token file, as on AKS): the real WorkloadIdentityCredential
// reads the file and presents it as a client assertion. Here the "federated token" is an
// assertion signed with the relay app's simulator certificate, which the simulator's Entra accepts.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPKCS8, SignJWT } from 'jose';
import t from 'tap';
import { startUpstreamFixture } from '../helpers/upstream-fixture.js';

t.test('workload identity credential', async (t) => {
  const fx = await startUpstreamFixture();
  const dir = mkdtempSync(join(tmpdir(), 'relay-wi-'));
  t.teardown(async () => {
    rmSync(dir, { recursive: true, force: true });
    await fx.close();
  });
  const pem = readFileSync(fx.sim.relayApp.certificatePath, 'utf8');
  const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(pem)?.[0];
  t.ok(keyPem, 'the relay app PEM holds a PKCS#8 key');
  const key = await importPKCS8(keyPem!, 'RS256');
  const clientId = fx.sim.relayApp.clientId;
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(`${fx.sim.origin}/${fx.sim.tenantId}/oauth2/v2.0/token`)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key);
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, assertion);

  const up = fx.clients({ AZURE_CLIENT_SECRET: '', AZURE_FEDERATED_TOKEN_FILE: tokenFile });
  const before = fx.sim.control.calls({ route: 'entra.token' }).length;
  const ready = await up.checkReady(fx.ctx());
  t.ok(ready.ok);
  t.match(ready.detail, /workload identity credential/);
  t.equal(fx.sim.control.calls({ route: 'entra.token' }).length - before, 2);
  t.ok((await up.environments.list(fx.ctx())).length > 0);

  writeFileSync(tokenFile, 'not-a-jwt');
  const broken = fx.clients({ AZURE_CLIENT_SECRET: '', AZURE_FEDERATED_TOKEN_FILE: tokenFile });
  const err = await broken.tenant.getOwnTenantId(fx.ctx()).catch((e) => e);
  t.equal(err.kind, 'token');
  t.match(err.message, /workload identity credential/);
});
