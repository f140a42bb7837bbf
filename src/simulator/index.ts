// The upstream simulator: Entra ID, PPAPI appmanagement and BAP on one HTTPS origin, with upstream's own
// paths, stored state, a fast-forwardable clock and faults on demand. See docs/simulator.md.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { decodeJwt } from 'jose';
import { registerBap } from './bap.js';
import { checkBehaviour } from './behaviour.js';
import { SimClock, sleep } from './clock.js';
import { registerControlApi } from './control-api.js';
import { registerEntraDiscovery } from './entra.js';
import { registerEntraToken } from './entra-token.js';
import { routeMeta, type SimContext, type Surface } from './http-common.js';
import { registerPpapi } from './ppapi.js';
import { withFleet } from './fleet-seed.js';
import { defaultSeed, loadSeedFile, validateSeed } from './seed.js';
import { SimState } from './state.js';
import { relayAppCertificate, serverCertificate } from './tls.js';
import { TokenAuthority } from './tokens.js';
import type {
  CallRecord,
  FaultSpec,
  Simulator,
  SimulatorControl,
  SimulatorOptions,
  SimulatorSeed,
} from './types.js';

export * from './types.js';
export { DEMO_ENVIRONMENTS, DEMO_TENANTS, defaultSeed } from './seed.js';
export { FLEET_PACKAGE, FLEET_VERSION, fleetEnvironment, fleetEnvironmentId } from './fleet-seed.js';

const STATUS_CODES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  408: 'RequestTimeout',
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

function faultBody(surface: Surface, spec: FaultSpec) {
  const status = spec.status ?? 500;
  const code = spec.code ?? STATUS_CODES[status] ?? 'Error';
  const message =
    spec.message ??
    (status === 429
      ? 'The request was throttled. Retry after the time given in Retry-After.'
      : status === 503 && surface === 'ppapi'
        ? 'An unexpected error occurred.'
        : `Simulated upstream failure (${status}).`);
  const envelope = spec.envelope ?? (surface === 'entra' ? undefined : surface);
  if (envelope === 'bap') return { error: { code, message } };
  if (envelope === 'ppapi') return { code: status === 503 && !spec.code ? 'UnexpectedError' : code, message };
  return {
    error: status === 429 || status >= 500 ? 'temporarily_unavailable' : 'invalid_request',
    error_description: `AADSTS90033: ${message}`,
    error_codes: [90033],
  };
}

function installBodyParsers(app: FastifyInstance) {
  app.removeAllContentTypeParsers();
  // Clients send Content-Type: application/json on body-less POSTs (terraform does): an empty body is fine.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      const err = new Error('The request body is not valid JSON.') as Error & { statusCode: number };
      err.statusCode = 400;
      done(err, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
}

const noSchemas = () => () => {
  throw new Error('the simulator declares no route schemas');
};
const NO_SCHEMA_COMPILERS = { buildValidator: noSchemas, buildSerializer: noSchemas } as unknown as NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  let seed: SimulatorSeed =
    typeof opts.seed === 'string'
      ? loadSeedFile(opts.seed)
      : validateSeed(structuredClone(opts.seed ?? defaultSeed()));
  if (opts.environments) seed = validateSeed(withFleet(seed, opts.environments));
  const speed = opts.speed ?? 1;
  const clock = new SimClock(speed);
  const state = new SimState(seed, clock, speed);
  let origin = '';
  const tokens = new TokenAuthority(() => origin);
  const ctx: SimContext = { state, tokens, origin: () => origin };

  const [serverTls, appCert] = await Promise.all([serverCertificate(opts.tls), relayAppCertificate()]);
  const dir = mkdtempSync(join(tmpdir(), 'admin-relay-sim-'));
  const caCertPath = join(dir, 'simulator-ca.pem');
  const certificatePath = join(dir, 'relay-app-certificate.pem');
  writeFileSync(caCertPath, serverTls.cert);
  writeFileSync(certificatePath, `${appCert.key.trim()}\n${appCert.cert.trim()}\n`, { mode: 0o600 });

  const app = Fastify({
    https: { key: serverTls.key, cert: serverTls.cert },
    logger: opts.logger ?? false,
    // Upstream takes any tenant domain DNS allows (253 characters) in its paths; Fastify's default
    // of 100 would answer 414 where Entra answers the lookup.
    routerOptions: { maxParamLength: 1024 },
    // No route has a schema: without compilers of its own Fastify would load Ajv and
    // fast-json-stringify, which cost `npm start` about 200 ms of CPU before the first request.
    schemaController: { compilersFactory: NO_SCHEMA_COMPILERS },
  });
  installBodyParsers(app);

  const records = new WeakMap<FastifyRequest, CallRecord>();
  const afterFaults = new WeakMap<FastifyRequest, FaultSpec[]>();
  const droppedAfter = new WeakSet<FastifyRequest>();
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-ms-correlation-id', randomUUID());
    if (request.url.startsWith('/_simulator')) return;
    const meta = routeMeta(request);
    const clientRequestId = request.headers['x-ms-client-request-id'];
    const record: CallRecord = {
      at: Date.now(),
      method: request.method,
      route: meta?.routeName ?? 'other',
      path: request.url.split('?')[0]!,
      url: request.url,
      status: 0,
      ...(typeof clientRequestId === 'string' ? { clientRequestId } : {}),
    };
    const subject = meta && meta.surface !== 'entra' ? tokenSubjectOf(request.headers.authorization) : undefined;
    if (subject) record.tokenSubject = subject;
    state.calls.push(record);
    records.set(request, record);
    if (!meta) return;
    const fired = state.faults.take(meta.routeName, ['latency', 'status', 'reset', 'replay'], record.path);
    if (fired.length === 0) return;
    record.faults = fired.map((f) => f.id);
    const delay = fired.reduce((sum, f) => sum + (f.spec.latencyMs ?? 0), 0);
    if (delay > 0) await sleep(delay);
    if (request.raw.socket.destroyed) {
      record.droppedCallerGone = true;
      reply.hijack();
      return reply;
    }
    const late = fired.filter((f) => f.spec.after && f.spec.kind !== 'latency');
    if (late.length > 0)
      afterFaults.set(
        request,
        late.map((f) => f.spec),
      );
    const now = fired.filter((f) => !f.spec.after);
    if (now.some((f) => f.spec.kind === 'reset')) {
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }
    const replay = now.find((f) => f.spec.kind === 'replay');
    if (replay) return sendReplay(reply, replay.spec);
    const statusFault = now.find((f) => f.spec.kind === 'status');
    if (statusFault) {
      if (statusFault.spec.retryAfter !== undefined) reply.header('retry-after', statusFault.spec.retryAfter);
      if (statusFault.spec.wwwAuthenticate)
        reply.header('www-authenticate', statusFault.spec.wwwAuthenticate);
      for (const [k, v] of Object.entries(statusFault.spec.headers ?? {})) reply.header(k, v);
      return reply.code(statusFault.spec.status!).send(faultBody(meta.surface, statusFault.spec));
    }
  });
  // Faults with `after: true`: the handler has done its work; now lose or replace its answer.
  app.addHook('onSend', async (request, reply, payload) => {
    const late = afterFaults.get(request);
    if (!late) return payload;
    afterFaults.delete(request);
    if (late.some((f) => f.kind === 'reset')) {
      droppedAfter.add(request);
      request.raw.socket.destroy();
      return payload;
    }
    const spec = late.find((f) => f.kind === 'status')!;
    const meta = routeMeta(request);
    reply.code(spec.status!);
    reply.removeHeader('operation-location');
    reply.removeHeader('location');
    if (spec.retryAfter !== undefined) reply.header('retry-after', spec.retryAfter);
    if (spec.wwwAuthenticate) reply.header('www-authenticate', spec.wwwAuthenticate);
    for (const [k, v] of Object.entries(spec.headers ?? {})) reply.header(k, v);
    reply.header('content-type', 'application/json; charset=utf-8');
    return JSON.stringify(faultBody(meta?.surface ?? 'bap', spec));
  });
  app.addHook('preHandler', async (request) => {
    const record = records.get(request);
    if (record && routeMeta(request)?.surface !== 'entra' && request.body !== undefined) {
      record.body = structuredClone(request.body);
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    const record = records.get(request);
    if (record && !droppedAfter.has(request)) record.status = reply.statusCode;
  });

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    const surface = routeMeta(request)?.surface;
    if (surface === 'ppapi')
      return reply.code(status).send({ code: STATUS_CODES[status] ?? 'Error', message: error.message });
    if (surface === 'entra')
      return reply.code(status).send({ error: 'invalid_request', error_description: error.message });
    return reply
      .code(status)
      .send({ error: { code: STATUS_CODES[status] ?? 'Error', message: error.message } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'NotFound',
        message: `The simulator serves no route for ${request.method} ${request.url.split('?')[0]}.`,
      },
    }),
  );

  registerEntraDiscovery(app, ctx);
  registerEntraToken(app, ctx, appCert.cert);
  registerPpapi(app, ctx);
  registerBap(app, ctx);

  const control: SimulatorControl = {
    reset: () => state.reset(),
    setSpeed: (m) => clock.setSpeed(m),
    advanceClock: (ms) => clock.advance(ms),
    addFault: (f) => state.faults.add(f),
    removeFault: (id) => void state.faults.remove(id),
    clearFaults: () => state.faults.clear(),
    calls: (filter) =>
      state.calls
        .filter((c) => !filter?.method || c.method.toUpperCase() === filter.method.toUpperCase())
        .filter((c) => !filter?.route || c.route === filter.route)
        .map((c) => ({ ...c })),
    mintToken: (claims) => tokens.mint(claims, state.homeTenantId),
    getPolicy: (tenantId) => structuredClone(state.getPolicy(tenantId ?? state.homeTenantId)),
    setPolicy: (tenantId, raw) => void state.storePolicy(tenantId, raw),
    policyRevision: (tenantId) => state.policyRevision(tenantId ?? state.homeTenantId),
    setOption: (k, v) => {
      state.behaviour[k] = checkBehaviour(k, v);
    },
    packageState: (environmentId, uniqueName) => state.installs.packageState(environmentId, uniqueName),
  };
  registerControlApi(app, control, {
    faults: state.faults,
    behaviour: () => ({ ...state.behaviour }),
    speed: () => clock.getSpeed(),
  });

  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  origin = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    origin,
    caCertPem: serverTls.cert,
    caCertPath,
    tenantId: state.homeTenantId,
    relayApp: { clientId: seed.relayApp.clientId, clientSecret: seed.relayApp.clientSecret, certificatePath },
    control,
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A replayed answer: exactly the status, headers and body given (a captured upstream answer). */
function sendReplay(reply: FastifyReply, spec: FaultSpec) {
  reply.code(spec.status!);
  for (const [k, v] of Object.entries(spec.headers ?? {})) reply.header(k, v);
  if (spec.bodyText !== undefined) return reply.send(spec.bodyText);
  if (spec.body === undefined) return reply.send();
  reply.header('content-type', 'application/json; charset=utf-8');
  return reply.send(JSON.stringify(spec.body));
}

/** Who a bearer token names, for the call log (tests prove on-behalf-of calls with it). The
 *  handlers verify the token; this only reads its claims. */
function tokenSubjectOf(authorization: string | undefined): string | undefined {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return undefined;
  try {
    const claims = decodeJwt(token);
    if (typeof claims['scp'] === 'string') return `user:${String(claims['upn'] ?? claims['oid'] ?? claims.sub ?? '')}`;
    return `app:${String(claims['appid'] ?? claims['azp'] ?? claims.sub ?? '')}`;
  } catch {
    return undefined;
  }
}
