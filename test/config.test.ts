import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.js';

const fails = (env: Record<string, string>, variable: string, pattern: RegExp) => {
  try {
    loadConfig(env);
  } catch (err) {
    t.type(err, ConfigError);
    t.equal((err as ConfigError).variable, variable);
    t.match((err as Error).message, pattern);
    return;
  }
  t.fail(`expected ${variable} to be refused`);
};

t.test('defaults: simulator, apikey auth, port 3000 on loopback', async (t) => {
  const c = loadConfig({});
  t.equal(c.upstream, 'simulator');
  t.equal(c.authMode, 'apikey');
  t.equal(c.port, 3000);
  t.equal(c.host, '127.0.0.1');
  t.equal(c.publicBaseUrl, 'http://127.0.0.1:3000');
  t.equal(c.ppapiBaseUrl, 'https://api.powerplatform.com');
  t.equal(c.bapBaseUrl, 'https://api.bap.microsoft.com');
  t.equal(c.auditStore, 'file:./data/audit.jsonl');
});

t.test('credentials switch to live and require a tenant and a wait secret', async () => {
  fails({ AZURE_CLIENT_ID: 'x', AZURE_CLIENT_SECRET: 'y' }, 'AZURE_TENANT_ID', /required when UPSTREAM=live/);
  fails({ AZURE_CLIENT_ID: 'x', AZURE_CLIENT_SECRET: 'y', AZURE_TENANT_ID: 't' }, 'WAIT_URL_SECRET', /32\+/);
});

t.test('sovereign cloud presets and explicit overrides', async (t) => {
  const c = loadConfig({ AZURE_CLOUD: 'usgovhigh', BAP_BASE_URL: 'https://bap.example.test/' });
  t.equal(c.ppapiBaseUrl, 'https://api.high.powerplatform.microsoft.us');
  t.equal(c.bapBaseUrl, 'https://bap.example.test');
  fails({ AZURE_CLOUD: 'mars' }, 'AZURE_CLOUD', /public/);
});

t.test('bad values name the variable and what it accepts', async () => {
  fails({ PORT: 'abc' }, 'PORT', /abc/);
  fails({ PORT: '70000' }, 'PORT', /70000/);
  fails({ PUBLIC_BASE_URL: 'relay.contoso.com' }, 'PUBLIC_BASE_URL', /absolute http/);
  fails({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /loud/);
  fails({ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY', /true or false/);
  fails({ AUDIT_STORE: 's3://bucket' }, 'AUDIT_STORE', /file:<path> or memory/);
  fails({ WAIT_URL_SECRET: 'short' }, 'WAIT_URL_SECRET', /32 characters/);
});

t.test('AUTH_MODE=none only with the simulator on loopback', async (t) => {
  t.equal(loadConfig({ AUTH_MODE: 'none' }).authMode, 'none');
  fails({ AUTH_MODE: 'none', HOST: '0.0.0.0' }, 'AUTH_MODE', /loopback/);
  fails(
    { AUTH_MODE: 'none', UPSTREAM: 'live', AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', WAIT_URL_SECRET: 'x'.repeat(32) },
    'AUTH_MODE',
    /only allowed with UPSTREAM=simulator/,
  );
});

t.test('API_KEYS holds hashes with permissions', async (t) => {
  const hash = 'a'.repeat(64);
  const c = loadConfig({ API_KEYS: `ops:${hash}:packages.read+isolation.read, admin:${hash}:*` });
  t.same(c.apiKeys[0], { name: 'ops', sha256: hash, permissions: ['packages.read', 'isolation.read'] });
  t.equal(c.apiKeys[1]!.permissions.length, 4);
  fails({ API_KEYS: 'ops:plaintext:*' }, 'API_KEYS', /sha256/);
  fails({ API_KEYS: `ops:${hash}:packages.delete` }, 'API_KEYS', /unknown permission "packages.delete"/);
});

t.test('state store: embedded by default, postgres needs DATABASE_URL', async (t) => {
  const c = loadConfig({});
  t.equal(c.stateStore, 'embedded');
  t.equal(c.database, undefined);
  fails({ STATE_STORE: 'redis' }, 'STATE_STORE', /embedded|postgres/);
  fails({ STATE_STORE: 'postgres' }, 'DATABASE_URL', /required when STATE_STORE=postgres/);
  fails({ STATE_STORE: 'postgres', DATABASE_URL: 'https://db.example.com' }, 'DATABASE_URL', /PostgreSQL URL/);
  fails(
    { STATE_STORE: 'postgres', DATABASE_URL: 'postgres://relay@db:5432/relay', DATABASE_POOL_MAX: '1' },
    'DATABASE_POOL_MAX',
    /2/,
  );
  fails(
    { STATE_STORE: 'postgres', DATABASE_URL: 'postgres://relay@db:5432/relay', DATABASE_AUTH: 'entra' },
    'DATABASE_AUTH',
    /credential/,
  );
  const pg = loadConfig({
    STATE_STORE: 'postgres',
    DATABASE_URL: 'postgresql://relay@db.postgres.database.azure.com:5432/relay?sslmode=require',
    DATABASE_CA_FILE: '/etc/ssl/azure-pg.pem',
  });
  t.same(pg.database, {
    url: 'postgresql://relay@db.postgres.database.azure.com:5432/relay?sslmode=require',
    caFile: '/etc/ssl/azure-pg.pem',
    auth: 'password',
    poolMax: 10,
  });
});
