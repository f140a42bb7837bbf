// buildApp(deps): the relay as a Fastify instance, with no globals, so tests build it against the
// simulator and main.ts builds it against whatever config says.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import './http/caller.js';
import { ROUTER_PATH_VALUE_LIMIT } from './path-values.js';
import { clientErrorHandler, frameworkErrorHandler, registerErrorHandler } from './http/error-handler.js';
import { registerAuth } from './http/auth.js';
import { createFailedAuthBudget } from './http/failed-auth-budget.js';
import { RelayMetrics, registerMetrics } from './http/metrics.js';
import { registerRateLimit } from './http/rate-limit.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { registerShutdown } from './http/shutdown.js';
import { loggerOptions } from './http/logging.js';
import { registerSystemRoutes } from './system/routes.js';
import { registerOpenApi } from './connector-definition/openapi.js';
import { registerDocsRoutes } from './connector-definition/docs-routes.js';
import type { UpstreamClients } from './upstream/types.js';
import { registerIsolationRoutes } from './isolation/routes.js';
import { registerEnvironmentRoutes } from './installs/environment-routes.js';
import { registerOperationRoutes } from './installs/operation-routes.js';
import { registerPackageRoutes } from './installs/package-routes.js';
import { createInstallServices, type InstallWiringDeps } from './installs/wiring.js';
import type { AuditStore } from './state/audit-store.js';
import type { TenantLock } from './state/tenant-lock.js';
import { createStateStores, type StateStores } from './state/stores.js';

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
  /** The per-tenant isolation write lock; default in-process (DESIGN §9). */
  tenantLock?: TenantLock;
  /** Shared state; with STATE_STORE=postgres built from config (audit trail and isolation lock in the database). */
  state?: StateStores;
  /** Install polling and registry overrides (tests, the benchmark, a shared registry). */
  installs?: Pick<InstallWiringDeps, 'pollPolicy' | 'registry'>;
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The relay's Fastify instance type: zod schemas on every route. */
export type RelayApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export async function buildApp(deps: AppDeps): Promise<RelayApp> {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: loggerOptions(config.logLevel) }),
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: false,
    // Callers may bring their own correlation id; otherwise we mint one. It is sent upstream as
    // x-ms-client-request-id and returned as x-correlation-id.
    genReqId: (req) => {
      const given = req.headers['x-correlation-id'];
      return typeof given === 'string' && CORRELATION_ID.test(given) ? given : randomUUID();
    },
    forceCloseConnections: true,
    routerOptions: { maxParamLength: ROUTER_PATH_VALUE_LIMIT },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>() as RelayApp;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-correlation-id', request.id);
  });
  registerErrorHandler(app);

  // --- auth (issue 6): in-flight tracking for graceful shutdown, metrics, security headers, who is
  // calling and whether they hold the route's permission, then the per-caller rate limit.
  const metrics = deps.metrics ?? new RelayMetrics();
  registerShutdown(app);
  registerMetrics(app, metrics);
  await registerSecurityHeaders(app);
  // The limiter's hooks go on each route, so they still run after the auth hook; registering it
  // first gives the failed-authentication budget its store.
  await registerRateLimit(app, { perMinute: config.rateLimitPerMinute });
  const failedAuthBudget = createFailedAuthBudget(app, { perMinute: config.authFailuresPerMinute, trustProxy: config.trustProxy });
  await registerAuth(app, { config, metrics, failedAuthBudget });
  // --- end auth

  // The embedded default keeps its own construction in the routes; only a shared store is built here.
  let state = deps.state;
  if (!state && config.stateStore === 'postgres') {
    const created = await createStateStores(config, { clock, warn: (fields, message) => app.log.warn(fields, message) });
    app.addHook('onClose', () => created.close());
    state = created;
  }
  await registerSystemRoutes(app, { ...deps, state, clock });
  // --- routes: each area registers itself here (packages, operations, isolation, docs)
  // The definition generator first: @fastify/swagger only sees routes registered after it.
  await registerOpenApi(app);
  await registerDocsRoutes(app, deps);
  await registerIsolationRoutes(app, {
    ...deps,
    clock,
    auditStore: deps.auditStore ?? state?.auditStore,
    tenantLock: deps.tenantLock ?? state?.tenantLock,
  });
  const installs = createInstallServices({ ...deps, ...deps.installs, clock, log: app.log, metrics: app.metrics });
  await registerEnvironmentRoutes(app, installs);
  await registerPackageRoutes(app, installs);
  await registerOperationRoutes(app, installs);
  // --- end routes
  return app;
}
