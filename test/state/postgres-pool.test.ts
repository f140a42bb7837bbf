import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { DatabaseConfig } from '../../src/config.js';
import { entraPassword } from '../../src/state/postgres/entra-password.js';
import { clientConfig } from '../../src/state/postgres/pool.js';

const db = (over: Partial<DatabaseConfig>): DatabaseConfig => ({
  url: 'postgres://relay@db.example.com:5432/relay',
  auth: 'password',
  poolMax: 10,
  ...over,
});

t.test('the URL decides TLS; a CA file is added to what sslmode asked for', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-ca-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nAZURE\n-----END CERTIFICATE-----\n');

  const plain = clientConfig(db({}));
  t.match(plain, { host: 'db.example.com', port: 5432, database: 'relay', user: 'relay', application_name: 'admin-relay' });
  t.equal(plain.ssl, undefined, 'no sslmode, no TLS');
  t.equal(clientConfig(db({ url: 'postgres://relay@h/relay?sslmode=disable' })).ssl, false);

  const required = clientConfig(db({ url: 'postgres://relay@h:5432/relay?sslmode=verify-full', caFile }));
  t.match(required.ssl, { ca: /AZURE/ }, 'the CA file is trusted for the server certificate');
  t.notOk('sslmode' in required, 'sslmode itself is not passed on');

  const caOnly = clientConfig(db({ caFile }));
  t.match(caOnly.ssl, { ca: /AZURE/ }, 'a CA file alone turns TLS on');
});

t.test('entra: the password is a function asked for each new connection', async (t) => {
  let asked = 0;
  const config = clientConfig(db({ auth: 'entra' }), { password: async () => `token-${++asked}` });
  t.type(config.password, 'function');
  const password = config.password as () => Promise<string>;
  t.equal(await password(), 'token-1');
  t.equal(await password(), 'token-2');
});

t.test('entra: tokens are for the Azure Database for PostgreSQL scope, from the relay credential', async (t) => {
  const scopes: string[] = [];
  const credential = {
    getToken: async (scope: string | string[]) => {
      scopes.push(String(scope));
      return { token: 'eyJ.entra.token', expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  t.equal(await entraPassword(credential)(), 'eyJ.entra.token');
  t.same(scopes, ['https://ossrdbms-aad.database.windows.net/.default']);
  const none = { getToken: async () => null };
  await t.rejects(entraPassword(none)(), /no token/);
});
