// GetInstallStatus and the wait endpoint over HTTP against the simulator: the signed URL (tampered,
// expired, foreign → 401), credentials instead of the signature, snapshots, long poll, upstream
// 429/503 while polling, Location on PUBLIC_BASE_URL or the forwarded host, shutdown releasing waits.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { createWaitUrlSigner } from '../../src/installs/wait-url.js';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/seed.js';
import { startStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait-for.js';
import { followLikeEngine, getAbsolute } from './packages-engine.js';

const ENV = DEMO_ENVIRONMENTS.sales;
const install = (name: string, query = '') => `/v1/environments/${ENV}/packages/${name}/install${query}`;
const unsigned = (location: string) => {
  const u = new URL(location);
  const sig = u.searchParams.get('sig')!;
  const target = `${u.pathname}${u.search.replace(/[?&]sig=[^&]*/, '')}`;
  return { target, sig, origin: u.origin };
};

t.test('the signed wait URL', async (t) => {
  const stack = await startStack({ speed: 2 });
  t.teardown(() => stack.close());
  const first = await stack.request('POST', install('msdyn_ContosoSurveysAnchor'));
  t.equal(first.status, 202);
  const location = first.headers.location!;
  const { target, sig, origin } = unsigned(location);

  const ok = await getAbsolute(location);
  t.equal(ok.status, 202, 'the URL as given works without credentials');
  t.match(ok.headers['retry-after'], /^\d+$/);
  t.match(ok.headers.location, /sig=/);

  const refused = async (url: string, why: string) => {
    const res = await getAbsolute(url);
    t.equal(res.status, 401, why);
    t.equal(res.body?.error?.code, 'InvalidWaitToken', `${why}: error code`);
    t.match(res.body?.error?.message ?? '', /Location URL exactly/, `${why}: says what to do`);
  };
  await refused(location.replace('package=msdyn_ContosoSurveysAnchor', 'package=MicrosoftFormsPro'), 'tampered query');
  await refused(`${location.slice(0, -3)}${location.endsWith('AAA') ? 'BBB' : 'AAA'}`, 'tampered signature');
  await refused(`${location}&failOnError=false`, 'an added parameter');
  const held = await getAbsolute(`${location}&waitSeconds=1`);
  t.ok([200, 202].includes(held.status), 'waitSeconds may be added: it only sets how long the request is held');
  const expired = createWaitUrlSigner(stack.config.waitUrlSecret!, stack.config.waitUrlTtlMs).sign(target, Date.now() - stack.config.waitUrlTtlMs - 60_000);
  await refused(`${origin}${target}&sig=${expired}`, 'expired');
  const foreign = createWaitUrlSigner(randomBytes(32).toString('base64url'), 3_600_000).sign(target, Date.now());
  await refused(`${origin}${target}&sig=${foreign}`, 'signed by another secret');
  const otherOp = target.replace(first.body.operationId, '11111111-2222-4333-8444-555555555555');
  await refused(`${origin}${otherOp}&sig=${sig}`, 'the signature of another operation');
  t.equal((await getAbsolute(`${origin}${target}&sig=garbage`)).status, 401, 'malformed');

  const noCredentials = await getAbsolute(`${origin}${target}`);
  t.equal(noCredentials.status, 401, 'neither signature nor credentials');

  const longPoll = await stack.request('GET', `${target}&waitSeconds=60`);
  t.equal(longPoll.status, 200, 'credentials instead of the signature, with a long poll that answers when the install ends');
  t.match(longPoll.body, { status: 'Succeeded', packageUniqueName: 'msdyn_ContosoSurveysAnchor', operationId: first.body.operationId });
});

t.test('GetInstallStatus is a snapshot that always answers 200', async (t) => {
  const stack = await startStack({ speed: 5 });
  t.teardown(() => stack.close());
  const first = await stack.request('POST', install('msdyn_SalesInsightsAddOn'));
  const op = first.body.operationId;
  const running = await stack.request('GET', `/v1/environments/${ENV}/operations/${op}`);
  t.equal(running.status, 200);
  t.match(running.body, { operationId: op, status: /NotStarted|Running/, packageUniqueName: 'msdyn_SalesInsightsAddOn', completedAt: null });
  await followLikeEngine(first);
  const failed = await stack.request('GET', `/v1/environments/${ENV}/operations/${op}?package=msdyn_SalesInsightsAddOn`);
  t.equal(failed.status, 200, 'a failed install is still 200 here');
  t.match(failed.body, { status: 'Failed', error: { message: 'Missing dependency msdyn_Base' } });

  const unknown = await stack.request('GET', `/v1/environments/${ENV}/operations/11111111-2222-4333-8444-555555555555`);
  t.equal(unknown.status, 404);
  t.equal(unknown.body.error.code, 'OperationNotFound');
  const unknownWait = await stack.request('GET', `/v1/environments/${ENV}/operations/11111111-2222-4333-8444-555555555555/wait?waitSeconds=100`);
  t.equal(unknownWait.status, 404, 'a long poll on an unknown operation is a 404 at once, not after the hold');
  const malformed = await stack.request('GET', `/v1/environments/${ENV}/operations/not-a-guid`);
  t.equal(malformed.status, 400);
  const badEnv = await stack.request('GET', '/v1/environments/not-an-env/operations/11111111-2222-4333-8444-555555555555');
  t.equal(badEnv.status, 400);
  t.match(badEnv.body.error.message, /environment id/);
});

for (const fault of [
  { status: 429, retryAfter: '1' },
  { status: 503, retryAfter: undefined },
]) {
  t.test(`upstream ${fault.status} while polling: the wait honours it and the flow still ends well`, async (t) => {
    const stack = await startStack({ speed: 5 });
    t.teardown(() => stack.close());
    stack.sim.control.addFault({ route: 'ppapi.operation', kind: 'status', status: fault.status, times: 3, ...(fault.retryAfter ? { retryAfter: fault.retryAfter } : {}) });
    const first = await stack.request('POST', install('ContosoExpenseApprovals'));
    t.equal(first.status, 202, 'the 202 does not wait on status calls');
    const run = await followLikeEngine(first);
    t.equal(run.final.status, 200);
    t.equal(run.final.body.status, 'Succeeded');
    const calls = stack.sim.control.calls({ route: 'ppapi.operation' });
    const faulted = calls.findIndex((c) => c.status === fault.status);
    t.ok(faulted >= 0, `upstream answered ${fault.status} to status calls`);
    const next = calls[faulted + 1];
    t.ok(next, 'polling went on after the fault');
    if (fault.retryAfter) t.ok(next && next.at - calls[faulted]!.at >= 900, 'the next status call waited for Retry-After: 1');
    t.ok(calls.length < 20, `a bounded number of status calls (${calls.length})`);
  });
}

t.test('Location is absolute on PUBLIC_BASE_URL', async (t) => {
  const stack = await startStack({ speed: 50 });
  t.teardown(() => stack.close());
  stack.config.publicBaseUrl = 'https://relay.contoso.com';
  const res = await stack.request('POST', install('msdyn_ContosoSurveysAnchor'));
  t.match(res.headers.location, /^https:\/\/relay\.contoso\.com\/v1\/environments\/.+\/wait\?/);
  t.match(res.body.statusUrl, /^https:\/\/relay\.contoso\.com\//);
});

t.test('Location follows the forwarded host when the proxy is trusted', async (t) => {
  const stack = await startStack({ speed: 50, env: { TRUST_PROXY: 'true' } });
  t.teardown(() => stack.close());
  const res = await stack.request('POST', install('msdyn_ContosoSurveysAnchor'), {
    headers: { 'x-forwarded-host': 'relay.fabrikam.com', 'x-forwarded-proto': 'https' },
  });
  t.equal(res.status, 202);
  t.match(res.headers.location, /^https:\/\/relay\.fabrikam\.com\/v1\/environments\//);
  // The signature covers the path, not the host, so the URL works through the proxy.
  const { target } = unsigned(res.headers.location!);
  const sig = new URL(res.headers.location!).searchParams.get('sig');
  const viaProxy = await getAbsolute(`${stack.baseUrl}${target}&sig=${sig}`);
  t.ok([200, 202].includes(viaProxy.status));
});

t.test('a held wait whose caller hangs up is let go at once', async (t) => {
  const stack = await startStack({ speed: 0.05 });
  t.teardown(() => stack.close());
  const first = await stack.request('POST', install('msdyn_ContosoSurveysAnchor'));
  const gone = new AbortController();
  const held = getAbsolute(`${first.headers.location}&waitSeconds=100`, {}, gone.signal).catch(() => 'aborted');
  const activeWaits = async () => /^relay_active_waits (\d+)$/m.exec(String((await stack.request('GET', '/metrics')).body))?.[1];
  await waitFor(async () => (await activeWaits()) === '1', 'the wait to be held');
  t.equal(await activeWaits(), '1', 'held');
  gone.abort();
  t.equal(await held, 'aborted');
  await waitFor(async () => (await activeWaits()) === '0', 'the held wait to be released after the caller hung up');
  t.equal(await activeWaits(), '0', 'released when the caller went away');
});

t.test('held waits are answered with 202 + Location when the relay shuts down', async (t) => {
  const stack = await startStack({ speed: 0.05 });
  t.teardown(() => stack.close());
  const first = await stack.request('POST', install('msdyn_ContosoSurveysAnchor'));
  const { target } = unsigned(first.headers.location!);
  const held = Array.from({ length: 5 }, () => stack.request('GET', `${target}&waitSeconds=100`));
  const heldCount = async () => /^relay_active_waits (\d+)$/m.exec(String((await stack.request('GET', '/metrics')).body))?.[1];
  await waitFor(async () => (await heldCount()) === '5', 'all five waits to be held');
  const metrics = await stack.request('GET', '/metrics');
  t.match(String(metrics.body), /^relay_active_waits 5$/m, 'the held waits are counted in /metrics');
  const closing = stack.app.close();
  const answers = await Promise.all(held);
  await closing;
  t.same(answers.map((a) => a.status), [202, 202, 202, 202, 202]);
  t.ok(answers.every((a) => /\/wait\?/.test(a.headers.location ?? '')));
});
