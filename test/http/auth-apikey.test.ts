// AUTH_MODE=apikey and none: named hashed keys with their permissions, the demo key, refusals.
import t from 'tap';
import { createApiKeyVerifier, sha256Hex } from '../../src/http/api-keys.js';
import { buildProbeApp } from './support/probe-app.js';

const READER_KEY = 'reader-key-0123456789abcdef';
const WRITER_KEY = 'writer-key-0123456789abcdef';
const DEMO_KEY = 'demo-key-0123456789abcdef';

const app = await buildProbeApp({
  AUTH_MODE: 'apikey',
  API_KEYS: `reader:${sha256Hex(READER_KEY)}:packages.read,writer:${sha256Hex(WRITER_KEY).toUpperCase()}:isolation.read+isolation.write`,
  DEMO_API_KEY: DEMO_KEY,
});
t.teardown(() => app.close());

const call = (method: 'GET' | 'POST', url: string, key?: string) =>
  app.inject({ method, url, headers: key ? { 'x-api-key': key } : {}, ...(method === 'POST' && { payload: {} }) });

t.test('each key gets in where its permissions allow, and is named', async (t) => {
  const r = await call('GET', '/v1/probe/read', READER_KEY);
  t.equal(r.statusCode, 200);
  t.same(r.json(), { kind: 'apikey', id: 'key:reader', name: 'reader', hasBearerToken: false });
  t.equal((await call('POST', '/v1/probe/write', WRITER_KEY)).statusCode, 200, 'upper-case hash in config works');
});

t.test('the demo key has every permission', async (t) => {
  t.equal((await call('GET', '/v1/probe/read', DEMO_KEY)).statusCode, 200);
  t.equal((await call('POST', '/v1/probe/write', DEMO_KEY)).json().name, 'demo');
});

t.test('a key without the permission → 403 naming it and how to grant it', async (t) => {
  const r = await call('POST', '/v1/probe/write', READER_KEY);
  t.equal(r.statusCode, 403);
  t.equal(r.json().error.code, 'PermissionDenied');
  t.equal(r.json().error.target, 'isolation.write');
  t.match(r.json().error.message, /API key "reader" lacks the permission isolation\.write.*API_KEYS/);
});

t.test('missing, wrong and almost-right keys → 401 with an ApiKey challenge', async (t) => {
  for (const key of [undefined, 'nope', `${READER_KEY}x`, READER_KEY.slice(0, -1), sha256Hex(READER_KEY)]) {
    const r = await call('GET', '/v1/probe/read', key);
    t.equal(r.statusCode, 401, `key ${key}`);
    t.match(String(r.headers['www-authenticate']), /^ApiKey realm="admin-relay", header="X-API-Key"/);
    t.equal(r.json().error.code, key ? 'InvalidCredentials' : 'AuthenticationRequired');
  }
});

t.test('a bearer token in apikey mode is refused with a hint', async (t) => {
  const r = await app.inject({ url: '/v1/probe/read', headers: { authorization: 'Bearer abc.def.ghi' } });
  t.equal(r.statusCode, 401);
  t.match(r.json().error.message, /X-API-Key/);
});

t.test('the verifier compares every key and matches only exact keys', async (t) => {
  const v = createApiKeyVerifier([{ name: 'a', sha256: sha256Hex('k1'), permissions: ['packages.read'] }]);
  t.equal(v.verify('k1')?.name, 'a');
  t.equal(v.verify('k2'), undefined);
  t.equal(v.verify(''), undefined);
  t.equal(createApiKeyVerifier([]).verify('k1'), undefined, 'no keys configured: nothing gets in');
});

t.test('AUTH_MODE=none (simulator on loopback only) lets anyone in with every permission', async (t) => {
  const open = await buildProbeApp({ AUTH_MODE: 'none', HOST: '127.0.0.1' });
  t.teardown(() => open.close());
  const r = await open.inject({ method: 'POST', url: '/v1/probe/write', payload: {} });
  t.equal(r.statusCode, 200);
  t.equal(r.json().kind, 'anonymous');
});

t.test('encoded or oddly written /v1 paths get the same auth check', async (t) => {
  for (const path of ['/%76%31/probe/read', '/v1/%70robe/read', '//v1/probe/read', '/V1/probe/read', '/v1/probe/read/']) {
    const res = await call('GET', path);
    t.equal(res.statusCode, 401, `${path} without a key`);
  }
  t.equal((await call('GET', '/%76%31/probe/read', READER_KEY)).statusCode, 200, 'and with a key it is the same route');
  t.equal((await call('POST', '/%76%31/probe/write', READER_KEY)).statusCode, 403, 'with its permission check');
});
