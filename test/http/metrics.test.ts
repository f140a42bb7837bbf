// /metrics: Prometheus text from a registry per app, counting requests by route template and status,
// auth refusals, and what services and upstream clients report through RelayMetrics.
import t from 'tap';
import { sha256Hex } from '../../src/http/api-keys.js';
import { RelayMetrics } from '../../src/http/metrics.js';
import { buildProbeApp } from './support/probe-app.js';

const KEY = 'metrics-key-0123456789abcdef';
const env = { AUTH_MODE: 'apikey', API_KEYS: `m:${sha256Hex(KEY)}:packages.read` };

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[4]);
  }
  return undefined;
}

t.test('requests are counted per route template, method and status; refusals by reason', async (t) => {
  const app = await buildProbeApp(env);
  t.teardown(() => app.close());
  for (let i = 0; i < 3; i++) await app.inject({ url: `/v1/probe/read?i=${i}`, headers: { 'x-api-key': KEY } });
  await app.inject({ url: '/v1/probe/read', headers: { 'x-api-key': 'wrong' } });
  await app.inject({ method: 'POST', url: '/v1/probe/write', headers: { 'x-api-key': KEY }, payload: {} });
  const res = await app.inject({ url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.match(String(res.headers['content-type']), /^text\/plain/);
  const text = res.body;
  t.equal(sample(text, 'relay_http_requests_total', { route: '/v1/probe/read', method: 'GET', status: '200' }), 3);
  t.equal(sample(text, 'relay_http_requests_total', { route: '/v1/probe/read', method: 'GET', status: '401' }), 1);
  t.equal(sample(text, 'relay_http_request_duration_seconds_count', { route: '/v1/probe/read', status: '200' }), 3);
  t.equal(sample(text, 'relay_auth_failures_total', { reason: 'invalid_key' }), 1);
  t.equal(sample(text, 'relay_auth_failures_total', { reason: 'permission' }), 1);
  t.ok(sample(text, 'relay_process_cpu_user_seconds_total') !== undefined, 'process metrics are there');
});

t.test('services and upstream clients report through app.metrics; apps do not share registries', async (t) => {
  const a = await buildProbeApp(env);
  const b = await buildProbeApp(env);
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  a.metrics.upstreamCall({ host: 'api.bap.microsoft.com', status: 429, attempt: 1 });
  a.metrics.upstreamCall({ host: 'api.bap.microsoft.com', status: 200, attempt: 2 });
  a.metrics.upstreamCall({ host: 'api.powerplatform.com', status: 'error', attempt: 1 });
  a.metrics.tokenFailure({ scope: 'https://service.powerapps.com/.default', reason: 'obo' });
  a.metrics.installFinished('succeeded');
  a.metrics.installFinished('failed');
  a.metrics.isolationChanged('applied');
  const stopWait = a.metrics.waitStarted();
  a.metrics.waitStarted();
  stopWait();
  stopWait();
  const text = (await a.inject({ url: '/metrics' })).body;
  t.equal(sample(text, 'relay_upstream_requests_total', { host: 'api.bap.microsoft.com', status: '200', retry: 'true' }), 1);
  t.equal(sample(text, 'relay_upstream_requests_total', { host: 'api.bap.microsoft.com', status: '429', retry: 'false' }), 1);
  t.equal(sample(text, 'relay_upstream_requests_total', { host: 'api.powerplatform.com', status: 'error' }), 1);
  t.equal(sample(text, 'relay_upstream_token_failures_total', { reason: 'obo' }), 1);
  t.equal(sample(text, 'relay_installs_total', { outcome: 'failed' }), 1);
  t.equal(sample(text, 'relay_isolation_changes_total', { outcome: 'applied' }), 1);
  t.equal(sample(text, 'relay_active_waits'), 1, 'the stop function counts once');
  const other = (await b.inject({ url: '/metrics' })).body;
  t.equal(sample(other, 'relay_installs_total', { outcome: 'failed' }), undefined);
  const standalone = new RelayMetrics({ processMetrics: false });
  let held = 7;
  standalone.countActiveWaitsWith(() => held);
  t.equal(sample(await standalone.registry.metrics(), 'relay_active_waits'), 7, 'held waits read at scrape time');
  held = 0;
  t.equal(sample(await standalone.registry.metrics(), 'relay_active_waits'), 0);
});

t.test('over the whole stack: upstream calls, retries, token failures, installs and isolation changes are counted', async (t) => {
  const { startStack } = await import('../helpers/stack.js');
  const stack = await startStack();
  t.teardown(() => stack.close());
  const scrape = async () => (await stack.request('GET', '/metrics', { headers: { 'x-api-key': '' } })).body as string;
  const host = new URL(stack.sim.origin).hostname;

  stack.sim.control.addFault({ route: 'bap.isolation.get', kind: 'status', status: 503, times: 1 });
  t.equal((await stack.request('GET', '/v1/tenant-isolation')).status, 200);
  let text = await scrape();
  t.ok((sample(text, 'relay_upstream_requests_total', { host, status: '503', retry: 'false' }) ?? 0) >= 1, 'the 503 is counted');
  t.ok((sample(text, 'relay_upstream_requests_total', { host, status: '200', retry: 'true' }) ?? 0) >= 1, 'and the retry that succeeded');

  const dry = await stack.request('PUT', '/v1/tenant-isolation/rules/northwind.onmicrosoft.com', { body: { direction: 'Outbound', dryRun: true } });
  t.equal(dry.status, 200, JSON.stringify(dry.body));
  text = await scrape();
  t.equal(sample(text, 'relay_isolation_changes_total', { outcome: 'dry_run' }), 1, 'the dry run is counted');
  t.ok(sample(text, 'relay_http_requests_total', { route: '/v1/tenant-isolation/rules/:tenant', method: 'PUT', status: '200' }), 'by route template');
});
