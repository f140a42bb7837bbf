// Failed authentication has a budget per client address (AUTH_FAILURES_PER_MINUTE): past it,
// refused credentials get 429 with Retry-After instead of 401. Once 1,000 wrong keys got 1,000 × 401.
// The budget never locks out a caller whose credentials verify, from any address, and behind a
// trusted proxy the address is the one the proxy saw, not one the caller wrote.
import t from 'tap';
import { sha256Hex } from '../../src/http/api-keys.js';
import { startStack } from '../helpers/stack.js';
import { startLocalEntra } from '../http/support/local-entra.js';
import { buildProbeApp } from '../http/support/probe-app.js';

const KEY = 'flows-key-0123456789abcdef0123456789';
const BUDGET = 5;

const keyApp = await buildProbeApp({ AUTH_MODE: 'apikey', API_KEYS: `flows:${sha256Hex(KEY)}:*`, AUTH_FAILURES_PER_MINUTE: String(BUDGET) });
t.teardown(() => keyApp.close());

const from = (app: typeof keyApp, remoteAddress: string, headers: Record<string, string> = {}) =>
  app.inject({ url: '/v1/probe/read', remoteAddress, headers });

t.test('wrong API keys: 401 within the budget, then 429 with Retry-After for that address only', async (t) => {
  const statuses: number[] = [];
  for (let i = 0; i < BUDGET + 3; i++) statuses.push((await from(keyApp, '10.0.0.1', { 'x-api-key': `wrong-${i}` })).statusCode);
  t.same(statuses, [...Array(BUDGET).fill(401), 429, 429, 429]);
  const refused = await from(keyApp, '10.0.0.1', { 'x-api-key': 'wrong' });
  t.equal(refused.statusCode, 429);
  const retryAfter = Number(refused.headers['retry-after']);
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${refused.headers['retry-after']}`);
  t.equal(refused.json().error.code, 'TooManyFailedAuthentications');
  t.match(refused.json().error.message, /AUTH_FAILURES_PER_MINUTE/);
  t.equal(refused.json().error.correlationId, refused.headers['x-correlation-id']);

  t.equal((await from(keyApp, '10.0.0.1', { 'x-api-key': KEY })).statusCode, 200, 'the right key from that same address still works');
  t.equal((await from(keyApp, '10.0.0.1')).statusCode, 429, 'no credentials at all is a failure too');
  t.equal((await from(keyApp, '10.0.0.2', { 'x-api-key': 'wrong' })).statusCode, 401, 'another address has its own budget');
  t.equal((await from(keyApp, '10.0.0.2', { 'x-api-key': KEY })).statusCode, 200, 'and its authenticated callers are served');
  t.equal((await keyApp.inject({ url: '/healthz', remoteAddress: '10.0.0.1' })).statusCode, 200, 'service endpoints are not affected');
});

t.test('IPv6 callers share one budget per /64', async (t) => {
  for (let i = 0; i < BUDGET; i++) t.equal((await from(keyApp, `2001:db8:0:1::${i + 1}`, { 'x-api-key': 'wrong' })).statusCode, 401);
  t.equal((await from(keyApp, '2001:db8:0:1:ffff::99', { 'x-api-key': 'wrong' })).statusCode, 429, 'a neighbour in the same /64');
  t.equal((await from(keyApp, '2001:db8:0:2::1', { 'x-api-key': 'wrong' })).statusCode, 401, 'another /64');
});

t.test('bogus bearer tokens in entra mode are budgeted the same way', async (t) => {
  const entra = await startLocalEntra();
  t.teardown(() => entra.close());
  const app = await buildProbeApp({
    AUTH_MODE: 'entra',
    AZURE_AUTHORITY_HOST: entra.origin,
    ENTRA_AUDIENCE: 'api://admin-relay',
    ENTRA_ALLOWED_TENANTS: entra.tenantId,
    AUTH_FAILURES_PER_MINUTE: String(BUDGET),
  });
  t.teardown(() => app.close());
  const statuses: number[] = [];
  for (let i = 0; i < BUDGET + 2; i++) statuses.push((await from(app, '10.0.1.1', { authorization: `Bearer not.a.jwt${i}` })).statusCode);
  t.same(statuses, [...Array(BUDGET).fill(401), 429, 429]);
  const token = await entra.mintToken({ roles: ['packages.read'] });
  t.equal((await from(app, '10.0.1.1', { authorization: `Bearer ${token}` })).statusCode, 200, 'a valid token from that address is served');
});

t.test('behind a trusted proxy: the address the proxy saw, whatever the caller put in front of it', async (t) => {
  const app = await buildProbeApp({ AUTH_MODE: 'apikey', API_KEYS: `flows:${sha256Hex(KEY)}:*`, AUTH_FAILURES_PER_MINUTE: String(BUDGET), TRUST_PROXY: 'true' });
  t.teardown(() => app.close());
  const PROXY = '10.9.9.9';
  const statuses: number[] = [];
  // The attacker (203.0.113.7) writes a new X-Forwarded-For on each try, and the proxy appends what it saw.
  for (let i = 0; i < BUDGET + 2; i++) {
    const res = await from(app, PROXY, { 'x-forwarded-for': `198.51.100.${i}, 203.0.113.7`, 'x-api-key': 'wrong' });
    statuses.push(res.statusCode);
  }
  t.same(statuses, [...Array(BUDGET).fill(401), 429, 429], 'a fresh leftmost address buys no fresh budget');
  const victim = await from(app, PROXY, { 'x-forwarded-for': '203.0.113.8', 'x-api-key': 'wrong' });
  t.equal(victim.statusCode, 401, 'another client behind the same proxy keeps its budget');
  const spoofed = await from(app, PROXY, { 'x-forwarded-for': '203.0.113.7, 203.0.113.9', 'x-api-key': 'wrong' });
  t.equal(spoofed.statusCode, 401, "naming the attacker's address in front spends nothing of it");
});

t.test('over HTTP with the defaults: 100 wrong keys end in 429s, the demo key still works', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const statuses: number[] = [];
  for (let i = 0; i < 100; i++) statuses.push((await stack.request('GET', '/v1/environments', { headers: { 'x-api-key': `wrong-${i}` } })).status);
  const limit = stack.config.authFailuresPerMinute;
  t.equal(limit, 30, 'the default');
  t.same(statuses, [...Array(limit).fill(401), ...Array(100 - limit).fill(429)]);
  t.equal((await stack.request('GET', '/v1/environments')).status, 200);
});
