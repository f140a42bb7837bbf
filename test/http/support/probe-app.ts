// Builds the real app with a few probe routes under /v1 that only echo the caller, so auth can be
// tested on its own. The routes declare permissions exactly as the real routes do.
import type { Logger } from 'pino';
import { buildApp, type RelayApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { unusedUpstream } from './stub-upstream.js';

export async function buildProbeApp(
  env: Record<string, string>,
  logger?: Logger,
  extraRoutes?: (app: RelayApp) => void,
): Promise<RelayApp> {
  const config = loadConfig({ UPSTREAM: 'simulator', LOG_LEVEL: 'silent', ...env });
  const app = await buildApp({ config, upstream: unusedUpstream, ...(logger && { logger }) });
  const echo = async (request: { caller: { kind: string; id: string; name: string; tenantId?: string; bearerToken?: string } }) => ({
    kind: request.caller.kind,
    id: request.caller.id,
    name: request.caller.name,
    tenantId: request.caller.tenantId,
    hasBearerToken: request.caller.bearerToken !== undefined,
  });
  app.get('/v1/probe/read', { config: { permission: 'packages.read' } }, echo);
  app.post('/v1/probe/write', { config: { permission: 'isolation.write' } }, echo);
  app.get('/v1/probe/wait', { config: { permission: 'packages.read', acceptsWaitToken: true } }, echo);
  app.get('/v1/probe/ops/:op/wait', { config: { permission: 'packages.install', acceptsWaitToken: true } }, echo);
  app.get('/v1/probe/unprotected', echo);
  extraRoutes?.(app);
  await app.ready();
  return app;
}
