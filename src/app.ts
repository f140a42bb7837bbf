// buildApp(deps): the relay as a Fastify instance, with no globals, so tests build it against the
// simulator and main.ts builds it against whatever config says.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { docsPlugin } from './connector-definition/docs-plugin.js';
import { openApiPlugin } from './connector-definition/openapi.js';
import { authPlugin } from './http/auth.js';
import './http/caller.js';
import { clientErrorHandler, errorHandlerPlugin, frameworkErrorHandler } from './http/error-handler.js';
import { loggerOptions, requestLogger } from './http/logging.js';
import { metricsPlugin, RelayMetrics } from './http/metrics.js';
import { rateLimitPlugin } from './http/rate-limit.js';
import { type RelayApp, ZOD_COMPILERS_ONLY } from './http/relay-app.js';
import { securityHeadersPlugin } from './http/security-headers.js';
import { shutdownPlugin } from './http/shutdown.js';
import { installsPlugin } from './installs/plugin.js';
import { createInstallServices, type InstallWiringDeps } from './installs/wiring.js';
import { isolationPlugin } from './isolation/plugin.js';
import { ROUTER_PATH_VALUE_LIMIT } from './path-values.js';
import { rolloutsPlugin, type RolloutTuning } from './rollouts/plugin.js';
import { createEmbeddedLeaseStore } from './state/leases.js';
import { createEmbeddedRolloutStore } from './state/stores.js';
import type { AuditStore } from './state/audit-store.js';
import { createStateStores, type StateStores } from './state/stores.js';
import type { TenantLock } from './state/tenant-lock.js';
import { systemPlugin } from './system/plugin.js';
import type { UpstreamClients } from './upstream/types.js';

export type { RelayApp } from './http/relay-app.js';

export interface AppDeps {
  config: Config;
  upstream: UpstreamClients;
  clock?: Clock;
  /** A pino logger to use instead of building one from config (tests capture logs this way). */
  logger?: Logger;
  /** Shared with the upstream clients (their UpstreamObserver) so /metrics counts upstream calls too. */
  metrics?: RelayMetrics;
  /** The isolation audit trail; default built from config.auditStore (tests inject a file store). */
  auditStore?: AuditStore;
  /** The per-tenant isolation write lock; default in-process. */
  tenantLock?: TenantLock;
  /** Shared state; with STATE_STORE=postgres built from config (audit trail and isolation lock in the database). */
  state?: StateStores;
  /** Install polling and registry overrides (tests, the benchmark, a shared registry). */
  installs?: Pick<InstallWiringDeps, 'pollPolicy' | 'registry' | 'shared'>;
  /** Rollout retry and lease timing (tests run them faster). */
  rollouts?: RolloutTuning;
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp(deps: AppDeps): Promise<RelayApp> {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const app = Fastify({
    ...(deps.logger
      ? { loggerInstance: deps.logger as FastifyBaseLogger }
      : { logger: loggerOptions(config.logLevel) }),
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: false,
    childLoggerFactory: requestLogger as never,
    // Callers may bring their own correlation id; otherwise we mint one. It is sent upstream as
    // x-ms-client-request-id and returned as x-correlation-id.
    genReqId: (req) => {
      const given = req.headers['x-correlation-id'];
      // toLowerCase (a no-op on a UUID) flattens it: randomUUID builds the string from 13 pieces,
      // which V8 keeps as a chain of 13 string objects (~420 bytes, not ~60) for as long as the
      // request lives, and a held long poll lives long.
      return typeof given === 'string' && CORRELATION_ID.test(given) ? given : randomUUID().toLowerCase();
    },
    forceCloseConnections: true,
    routerOptions: { maxParamLength: ROUTER_PATH_VALUE_LIMIT },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    schemaController: { compilersFactory: ZOD_COMPILERS_ONLY },
  }).withTypeProvider<ZodTypeProvider>() as RelayApp;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Callback-style hooks on the per-request path: an async hook costs a promise and a microtask.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-correlation-id', request.id);
    done();
  });
  // Each plugin names the plugins it needs; Fastify refuses to boot when one is missing or late.
  // In-flight tracking comes before auth so a shutdown drains refused requests too; the limiter
  // before auth gives the failed-authentication budget its store.
  await app.register(errorHandlerPlugin);
  await app.register(shutdownPlugin);
  await app.register(metricsPlugin, { metrics: deps.metrics ?? new RelayMetrics() });
  await app.register(securityHeadersPlugin);
  await app.register(rateLimitPlugin, { perMinute: config.rateLimitPerMinute });
  await app.register(authPlugin, { config });

  // The embedded default keeps its own construction in the features; only a shared store is built here.
  let state = deps.state;
  if (!state && config.stateStore === 'postgres') {
    const created = await createStateStores(config, {
      clock,
      warn: (fields, message) => app.log.warn(fields, message),
    });
    app.addHook('onClose', () => created.close());
    state = created;
  }
  await app.register(systemPlugin, { upstream: deps.upstream, clock, ...(state && { state }) });
  // The definition generator before the features: @fastify/swagger only sees routes registered after it.
  await app.register(openApiPlugin);
  await app.register(docsPlugin, { config });
  const auditStore = deps.auditStore ?? state?.auditStore;
  const tenantLock = deps.tenantLock ?? state?.tenantLock;
  await app.register(isolationPlugin, {
    config,
    upstream: deps.upstream,
    clock,
    ...(auditStore && { auditStore }),
    ...(tenantLock && { tenantLock }),
    ...(state && { triggerSnapshots: state.triggerSnapshots }),
  });
  // Several replicas: installs start, poll and answer through the shared state.
  const sharedInstalls =
    state?.kind === 'postgres' && state.installProgress
      ? {
          registry: state.installRegistry,
          shared: { leases: state.leases, notifier: state.notifier, progress: state.installProgress },
        }
      : {};
  // Built here, not inside the plugin, so rollouts share the install registry and pollers: a
  // rollout's install and a single InstallPackage for the same environment meet and join.
  const installServices = createInstallServices({
    config,
    upstream: deps.upstream,
    clock,
    ...sharedInstalls,
    ...deps.installs,
    ...(state && { triggerSnapshots: state.triggerSnapshots }),
    log: app.log,
    metrics: app.metrics,
  });
  await app.register(installsPlugin, { config, upstream: deps.upstream, clock, services: installServices });
  const rolloutStore =
    state?.rollouts ?? createEmbeddedRolloutStore(config, (fields, message) => app.log.warn(fields, message));
  if (!state) app.addHook('onClose', () => rolloutStore.close());
  await app.register(rolloutsPlugin, {
    installs: installServices,
    store: rolloutStore,
    leases: state?.leases ?? createEmbeddedLeaseStore(clock),
    clock,
    ...deps.rollouts,
  });
  return app;
}
