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
