// Service endpoints for the connector definition: GET /apiDefinition.swagger.json (what Logic Apps
// Standard's HTTP + Swagger action and `paconn` read) and Swagger UI at /docs, both showing the same
// definition with host, basePath and schemes taken from PUBLIC_BASE_URL. Neither needs credentials:
// the definition describes the API, it grants nothing.
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { AppDeps, RelayApp } from '../app.js';
import { type ConnectorAuth, generateDefinition, targetFromBaseUrl } from '../http/openapi.js';

export async function registerDocsRoutes(app: RelayApp, deps: Pick<AppDeps, 'config'>) {
  const { config } = deps;
  // The served definition signs in the way this relay is configured to accept callers.
  const auth: ConnectorAuth = config.authMode;
  const definition = () => generateDefinition(app, { ...targetFromBaseUrl(config.publicBaseUrl), auth });

  app.get('/apiDefinition.swagger.json', { schema: { hide: true } }, async (_request, reply) => {
    return reply
      .header('cache-control', 'no-cache')
      .type('application/json; charset=utf-8')
      .send(definition());
  });

  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true, displayOperationId: true, docExpansion: 'list' },
    transformSpecification: () => definition(),
    transformSpecificationClone: false,
  });
}
