// UPSTREAM_AUTH=obo and the shared poller: the flow engine polls Location without credentials, so
// the poller calls Power Platform with a user's token — a held waiter's while one holds, else the
// starter's, remembered until its exp — and says clearly when it has none. The simulator runs with
// no management application registered (app-only tokens are refused), and its call log names the
// subject of every upstream token, so each status call shows whose token it carried.
import { randomUUID } from 'node:crypto';
import { captureLogs } from '../helpers/capture-logs.js';
import t from 'tap';
import { createWaitUrlSigner } from '../../src/installs/wait-url.js';
import { DEMO_ENVIRONMENTS, defaultSeed } from '../../src/simulator/index.js';
import { startStack } from '../helpers/stack.js';
import { getAbsolute } from './packages-engine.js';

const ENV = DEMO_ENVIRONMENTS.sales;
const CLIENT_ID = defaultSeed().relayApp.clientId;
const APP_ID_URI = `api://${CLIENT_ID}`;
// Everything the relay logs, at debug level, to check that no token ever appears in it.
const logs = captureLogs({ level: 'debug' });
const { logger } = logs;
const minted: string[] = [];
const stack = await startStack({
  logger,
  env: { AUTH_MODE: 'entra', ENTRA_AUDIENCE: `${APP_ID_URI},${CLIENT_ID}`, UPSTREAM_AUTH: 'obo', RATE_LIMIT_PER_MINUTE: '100000' },
});
t.teardown(() => stack.close());
const { sim } = stack;
sim.control.setOption('registeredClientIds', []);
sim.control.setSpeed(1e-9); // frozen: an install ends when the test advances the simulator's clock

const userToken = async (upn: string, expiresInSeconds = 3600) => {
  const token = await sim.control.mintToken({ audience: APP_ID_URI, tenantId: sim.tenantId, upn, scp: 'packages.read packages.install', expiresInSeconds });
  minted.push(token);
  return token;
};
const bearer = (token: string) => ({ 'x-api-key': '', authorization: `Bearer ${token}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const statusCallsSince = (n: number) => sim.control.calls({ route: 'ppapi.operation' }).slice(n);
const subjects = (calls: Array<{ tokenSubject?: string }>) => [...new Set(calls.map((c) => c.tokenSubject))];

/** Polls like the engine (no credentials unless given) until the install is no longer running. */
async function pollUntilEnded(location: string, headers: Record<string, string> = {}) {
  // Bounded by time, not by a count of polls: on a busy machine each poll takes longer.
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const res = await getAbsolute(location, headers);
    if (res.status !== 202) return res;
    await sleep(250);
  }
  throw new Error('the install did not end');
}

async function startInstall(name: string, token: string) {
  const res = await stack.request('POST', `/v1/environments/${ENV}/packages/${name}/install`, { headers: bearer(token) });
  if (res.status !== 202) throw new Error(`install of ${name} did not start: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

t.test('the engine polls Location without credentials: the poll runs as the user who started the install', async (t) => {
  const started = await startInstall('msdyn_ContosoSurveysAnchor', await userToken('starter@contoso.com'));
  const before = sim.control.calls({ route: 'ppapi.operation' }).length;
  const running = await getAbsolute(started.headers.location!);
  t.equal(running.status, 202, JSON.stringify(running.body));
  sim.control.advanceClock(60_000);
  const done = await pollUntilEnded(started.headers.location!);
  t.equal(done.status, 200, JSON.stringify(done.body));
  t.equal(done.body.status, 'Succeeded');
  const calls = statusCallsSince(before);
  t.ok(calls.length >= 2, `status calls were made (${calls.length})`);
  t.same(subjects(calls), ['user:starter@contoso.com'], 'every status call carried the starter’s on-behalf-of token');
  t.ok(calls.every((c) => c.status === 200));
  const bap = sim.control.calls({ route: 'bap.environment' });
  t.ok(bap.length > 0 && bap.every((c) => c.tokenSubject === 'user:starter@contoso.com'), 'BAP saw the user too (app-only would be 403 here)');
});

t.test('a held waiter’s token serves the polls while it holds; the starter’s afterwards', async (t) => {
  const started = await startInstall('ContosoExpenseApprovals', await userToken('starter@contoso.com', 3600));
  const before = sim.control.calls({ route: 'ppapi.operation' }).length;
  // Shorter-lived than the starter's, so it does not replace the remembered token.
  const waiter = await userToken('waiter@contoso.com', 600);
  const held = await getAbsolute(`${started.headers.location}&waitSeconds=3`, { authorization: `Bearer ${waiter}` });
  t.equal(held.status, 202, JSON.stringify(held.body));
  const duringHold = statusCallsSince(before);
  t.ok(duringHold.length >= 2, `the poller polled during the hold (${duringHold.length})`);
  t.same(subjects(duringHold), ['user:waiter@contoso.com'], 'polls during the hold used the waiting user’s token');

  const afterHold = sim.control.calls({ route: 'ppapi.operation' }).length;
  sim.control.advanceClock(60_000);
  const done = await pollUntilEnded(started.headers.location!);
  t.equal(done.status, 200, JSON.stringify(done.body));
  const later = statusCallsSince(afterHold);
  t.ok(later.length >= 1);
  t.same(subjects(later), ['user:starter@contoso.com'], 'without a waiter, back to the starter’s token');
});

t.test('a signed-URL poller without packages permissions lends no token to the poller', async (t) => {
  const started = await startInstall('msdyn_AppDeploymentAnchor', await userToken('starter@contoso.com', 3600));
  const before = sim.control.calls({ route: 'ppapi.operation' }).length;
  const outsider = await sim.control.mintToken({ audience: APP_ID_URI, tenantId: sim.tenantId, upn: 'outsider@contoso.com', scp: 'isolation.read', expiresInSeconds: 600 });
  minted.push(outsider);
  const held = await getAbsolute(`${started.headers.location}&waitSeconds=2`, { authorization: `Bearer ${outsider}` });
  t.equal(held.status, 202, JSON.stringify(held.body));
  const duringHold = statusCallsSince(before);
  t.ok(duringHold.length >= 1, `the poller polled during the hold (${duringHold.length})`);
  t.same(subjects(duringHold), ['user:starter@contoso.com'], 'holding the URL does not make upstream calls run as the outsider');
  sim.control.advanceClock(60_000);
  const done = await pollUntilEnded(started.headers.location!);
  t.equal(done.status, 200, JSON.stringify(done.body));
});

t.test('a wait URL this replica never saw: 401 that explains the obo limits, no upstream call', async (t) => {
  const target = `/v1/environments/${ENV}/operations/${randomUUID()}/wait?package=msdyn_FieldInspectionsAnchor`;
  const sig = createWaitUrlSigner(stack.config.waitUrlSecret!, stack.config.waitUrlTtlMs).sign(target, Date.now());
  const before = sim.control.calls({ route: 'ppapi.operation' }).length;
  const res = await getAbsolute(`${stack.baseUrl}${target}&sig=${sig}`);
  t.equal(res.status, 401, JSON.stringify(res.body));
  t.equal(res.body.error.code, 'UserTokenUnavailable');
  t.match(res.body.error.message, /UPSTREAM_AUTH=obo/);
  t.match(res.body.error.message, /replica/);
  t.match(res.body.error.message, /UPSTREAM_AUTH=app/);
  t.equal(sim.control.calls({ route: 'ppapi.operation' }).length, before, 'nothing was sent upstream');
});

t.test('the starter’s token is not used past its exp; a credentialed poll brings a fresh one', async (t) => {
  const started = await startInstall('msdyn_FieldInspectionsAnchor', await userToken('short@contoso.com', 3));
  await sleep(3_200);
  const before = sim.control.calls({ route: 'ppapi.operation' }).length;
  const expired = await getAbsolute(started.headers.location!);
  t.equal(expired.status, 401, JSON.stringify(expired.body));
  t.equal(expired.body.error.code, 'UserTokenUnavailable');
  t.match(expired.body.error.message, /expired/);
  t.equal(sim.control.calls({ route: 'ppapi.operation' }).length, before, 'no upstream call with an expired token');

  const withCredentials = await getAbsolute(started.headers.location!, { authorization: `Bearer ${await userToken('renewed@contoso.com')}` });
  t.equal(withCredentials.status, 202, JSON.stringify(withCredentials.body));
  sim.control.advanceClock(60_000);
  const done = await pollUntilEnded(started.headers.location!);
  t.equal(done.status, 200, 'polls without credentials work again: the fresh token is remembered');
  t.same(subjects(statusCallsSince(before)), ['user:renewed@contoso.com']);
});

t.test('tokens are never logged', async (t) => {
  const log = logs.text();
  t.ok(log.includes('install.finished'), 'the relay did log the installs');
  t.ok(minted.length >= 5);
  // The signature part alone would identify a token; none of it appears anywhere.
  t.notOk(minted.some((token) => log.includes(token.split('.')[2]!)), 'no user token in the relay log');
  t.notOk(log.includes('eyJ'), 'no JWT-shaped string in the relay log');
  t.notOk(JSON.stringify(sim.control.calls()).includes('eyJ'), 'the simulator call log names subjects, not tokens');
});
