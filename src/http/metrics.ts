// Prometheus metrics through prom-client, on a registry owned by one app instance (not the global
// default), so tests can build several apps in one process. main creates one RelayMetrics and hands
// it to buildApp (deps.metrics) and to the upstream clients (as their UpstreamObserver); services
// reach it as app.metrics.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type RelayApp, relayPlugin } from './relay-app.js';
import type { UpstreamObserver } from '../upstream/types.js';

export type InstallOutcome = 'succeeded' | 'failed' | 'canceled' | 'already_installed' | 'joined' | 'timed_out' | 'error';
export type IsolationChangeOutcome = 'applied' | 'dry_run' | 'no_change' | 'conflict' | 'verify_failed' | 'error';

export class RelayMetrics implements UpstreamObserver {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'relay_http_requests_total',
    help: 'Inbound HTTP requests by route template, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'relay_http_request_duration_seconds',
    help: 'Inbound request latency by route template, method and status (long polls included).',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly httpInFlight = new Gauge({
    name: 'relay_http_requests_in_flight',
    help: 'Inbound requests received and not yet answered (held long polls included).',
    registers: [this.registry],
  });
  readonly upstreamCalls = new Counter({
    name: 'relay_upstream_requests_total',
    help: 'Upstream HTTP attempts by host, status (or "error") and whether the attempt was a retry.',
    labelNames: ['host', 'status', 'retry'] as const,
    registers: [this.registry],
  });
  readonly upstreamTokenFailures = new Counter({
    name: 'relay_upstream_token_failures_total',
    help: 'Failures to get an upstream token, by scope and reason.',
    labelNames: ['scope', 'reason'] as const,
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'relay_auth_failures_total',
    help: 'Inbound requests refused by authentication (401) or authorization (403), by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly installs = new Counter({
    name: 'relay_installs_total',
    help: 'Package installs by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private activeWaitsSource: (() => number) | undefined;
  readonly activeWaits: Gauge = new Gauge({
    name: 'relay_active_waits',
    help: 'Requests currently held in a long poll on an install operation.',
    registers: [this.registry],
    collect: () => {
      if (this.activeWaitsSource) this.activeWaits.set(this.activeWaitsSource());
    },
  });
  readonly isolationChanges = new Counter({
    name: 'relay_isolation_changes_total',
    help: 'Tenant isolation policy changes by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'relay_' });
  }

  // UpstreamObserver
  upstreamCall(call: { host: string; status: number | 'error'; attempt: number }) {
    this.upstreamCalls.inc({ host: call.host, status: String(call.status), retry: call.attempt > 1 ? 'true' : 'false' });
  }
  tokenFailure(failure: { scope: string; reason: string }) {
    this.upstreamTokenFailures.inc({ scope: failure.scope, reason: failure.reason });
  }

  // For the services
  installFinished(outcome: InstallOutcome) {
    this.installs.inc({ outcome });
  }
  /** Call when a request starts holding; call the returned function exactly once when it stops. */
  waitStarted(): () => void {
    this.activeWaits.inc();
    let done = false;
    return () => {
      if (!done) this.activeWaits.dec();
      done = true;
    };
  }
  /** Alternative to waitStarted: read the number of held requests at scrape time (e.g. pollers.waiting). */
  countActiveWaitsWith(source: () => number) {
    this.activeWaitsSource = source;
  }
  isolationChanged(outcome: IsolationChangeOutcome) {
    this.isolationChanges.inc({ outcome });
  }
  authRefused(reason: string) {
    this.authFailures.inc({ reason });
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's metrics; services count installs, waits and isolation changes here. */
    metrics: RelayMetrics;
  }
}

/** Decorates app.metrics, times every request and serves GET /metrics (no credentials, like /healthz). */
export function registerMetrics(app: RelayApp, metrics: RelayMetrics) {
  app.decorate('metrics', metrics);
  const open = new WeakSet<object>();
  const settle = (request: object) => {
    if (open.delete(request)) metrics.httpInFlight.dec();
  };
  // Callback-style: an async hook costs a promise and a microtask on every request.
  app.addHook('onRequest', (request, _reply, done) => {
    open.add(request);
    metrics.httpInFlight.inc();
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    settle(request);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    settle(request);
    // The route template, never the raw URL: ids in paths would explode the label space.
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { route, method: request.method, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}

export const metricsPlugin = relayPlugin<{ metrics: RelayMetrics }>((app, opts) => registerMetrics(app, opts.metrics), {
  name: 'relay-metrics',
});
