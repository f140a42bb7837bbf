// Service endpoints for the API's two documents: GET /apiDefinition.swagger.json (the connector
// definition: what Logic Apps Standard's HTTP + Swagger action and `paconn` read), GET /openapi.json
// (the full contract: every status, body and header) and Swagger UI at /docs, which shows both,
// with host and base path taken from PUBLIC_BASE_URL. None needs credentials: the documents
// describe the API, they grant nothing.
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { Config } from '../config.js';
import { relayPlugin } from '../http/relay-app.js';
import { type ConnectorAuth, generateDefinition, targetFromBaseUrl } from './openapi.js';
import { generateContract } from './openapi-contract.js';

export const docsPlugin = relayPlugin<{ config: Config }>(async (app, deps) => {
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

  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
    return reply
      .header('cache-control', 'no-cache')
      .type('application/json; charset=utf-8')
      .send(generateContract(app, { serverUrl: config.publicBaseUrl, auth }));
  });

  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    uiConfig: {
      deepLinking: true,
      displayOperationId: true,
      docExpansion: 'list',
      // Relative to the /docs/ page, so a path prefix in front of the relay keeps working.
      urls: [
        { url: './json', name: 'Connector definition (OpenAPI 2.0)' },
        { url: '../openapi.json', name: 'Full contract (OpenAPI 3.1)' },
      ],
    },
    transformSpecification: () => definition(),
    transformSpecificationClone: false,
  });
  // Not encapsulated: the generators read the routes the root instance collected.
}, { name: 'relay-docs', dependencies: ['relay-openapi'] });
