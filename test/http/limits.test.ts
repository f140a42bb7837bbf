// Per-caller rate limit (429 + Retry-After, relay error shape), body limit (413), security headers,
// correlation ids.
import t from 'tap';
import { sha256Hex } from '../../src/http/api-keys.js';
import { buildProbeApp } from './support/probe-app.js';

const A = 'key-a-0123456789abcdef';
const B = 'key-b-0123456789abcdef';
const app = await buildProbeApp({
  AUTH_MODE: 'apikey',
  API_KEYS: `a:${sha256Hex(A)}:*,b:${sha256Hex(B)}:*`,
  RATE_LIMIT_PER_MINUTE: '3',
  BODY_LIMIT_BYTES: '1024',
});
t.teardown(() => app.close());

t.test('the fourth request in a minute from one caller gets 429 with Retry-After; others are not affected', async (t) => {
  const statuses: number[] = [];
  let last: Awaited<ReturnType<typeof app.inject>> | undefined;
  for (let i = 0; i < 4; i++) {
    last = await app.inject({ url: '/v1/probe/read', headers: { 'x-api-key': A } });
    statuses.push(last.statusCode);
  }
  t.same(statuses, [200, 200, 200, 429]);
  const retryAfter = Number(last!.headers['retry-after']);
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${last!.headers['retry-after']}`);
  const body = last!.json();
  t.equal(body.error.code, 'TooManyRequests');
  t.match(body.error.message, /RATE_LIMIT_PER_MINUTE/);
  t.equal(body.error.correlationId, last!.headers['x-correlation-id']);
  t.equal((await app.inject({ url: '/v1/probe/read', headers: { 'x-api-key': B } })).statusCode, 200, 'key b has its own budget');
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'probes are never limited');
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ url: '/metrics' })).statusCode, 200);
});

t.test('a body over BODY_LIMIT_BYTES → 413 in the relay error shape', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/probe/write',
    headers: { 'x-api-key': B, 'content-type': 'application/json' },
    payload: JSON.stringify({ pad: 'x'.repeat(4096) }),
  });
  t.equal(res.statusCode, 413);
  t.equal(res.json().error.code, 'PayloadTooLarge');
  t.match(res.json().error.message, /BODY_LIMIT_BYTES/);
});

t.test('security headers and the correlation id are on every response, errors included', async (t) => {
  for (const url of ['/healthz', '/v1/probe/read', '/no-such-path']) {
    const res = await app.inject({ url, headers: { 'x-correlation-id': 'flow-run-42' } });
    t.equal(res.headers['x-correlation-id'], 'flow-run-42');
    // helmet's whole set, not a few of them: the headers are recorded once at start and replayed.
    for (const name of ['cross-origin-opener-policy', 'cross-origin-resource-policy', 'origin-agent-cluster', 'referrer-policy', 'x-dns-prefetch-control', 'x-download-options', 'x-permitted-cross-domain-policies', 'x-xss-protection'])
      t.ok(res.headers[name], `${url}: ${name}`);
    t.equal(res.headers['x-content-type-options'], 'nosniff');
    t.equal(res.headers['x-frame-options'], 'DENY');
    t.match(String(res.headers['content-security-policy']), /default-src 'self'/);
    t.match(String(res.headers['strict-transport-security']), /max-age=/);
  }
  const minted = await app.inject({ url: '/healthz', headers: { 'x-correlation-id': 'bad id with spaces' } });
  t.match(String(minted.headers['x-correlation-id']), /^[0-9a-f-]{36}$/, 'an unusable id is replaced');
});

t.test('signed wait URLs are limited per operation URL (10 × the limit), not as one shared anonymous caller', async (t) => {
  const limited = await buildProbeApp({ AUTH_MODE: 'apikey', RATE_LIMIT_PER_MINUTE: '2' });
  t.teardown(() => limited.close());
  const poll = async (op: string) => (await limited.inject({ url: `/v1/probe/ops/${op}/wait?sig=1.x` })).statusCode;
  const polls: number[] = [];
  for (let i = 0; i < 21; i++) polls.push(await poll('a'));
  t.same(polls, [...Array(20).fill(200), 429], 'one operation URL has its budget: WAIT_URL_BUDGET_FACTOR × RATE_LIMIT_PER_MINUTE');
  t.same([await poll('b'), await poll('b')], [200, 200], 'another operation URL is not affected');
  t.equal((await limited.inject({ url: '/v1/probe/read?sig=1.x' })).statusCode, 401, 'other routes do not take wait tokens');
});
