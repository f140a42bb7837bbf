// Service endpoints for the API's two documents: GET /apiDefinition.swagger.json (the connector
// definition: what Logic Apps Standard's HTTP + Swagger action and `paconn` read), GET /openapi.json
// (the full contract: every status, body and header) and Swagger UI at /docs, which shows both,
// with host and base path taken from PUBLIC_BASE_URL. None needs credentials: the documents
// describe the API, they grant nothing. The definition and Swagger UI come from the documents
// instance built on first use (documents-app.ts), so none of it is loaded before a request needs it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { relayPlugin } from '../http/relay-app.js';
import { documentsApp } from './documents-app.js';
import { type ConnectorAuth, type DefinitionTarget, generateDefinition, targetFromBaseUrl } from './openapi.js';
import { generateContract } from './openapi-contract.js';

/** Headers of the documents instance's answer that belong to that exchange, not to this one. */
const NOT_FORWARDED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

export const docsPlugin = relayPlugin<{ config: Config }>(async (app, deps) => {
  const { config } = deps;
  // The served definition signs in the way this relay is configured to accept callers.
  const auth: ConnectorAuth = config.authMode;
  const target = (): DefinitionTarget => ({ ...targetFromBaseUrl(config.publicBaseUrl), auth });
  const documents = () => documentsApp(app, { uiTarget: target });

  app.get('/apiDefinition.swagger.json', { schema: { hide: true } }, async (_request, reply) => {
    const definition = generateDefinition(await documents(), target());
    return reply.header('cache-control', 'no-cache').type('application/json; charset=utf-8').send(definition);
  });

  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
    return reply
      .header('cache-control', 'no-cache')
      .type('application/json; charset=utf-8')
      .send(generateContract(app, { serverUrl: config.publicBaseUrl, auth }));
  });

  // Swagger UI's page, its files and its copy of the definition, answered by the documents instance.
  const swaggerUi = async (request: FastifyRequest, reply: FastifyReply) => {
    const docs = await documents();
    const answer = await docs.inject({
      method: 'GET',
      url: request.url,
      headers: Object.fromEntries(
        ['accept', 'accept-encoding', 'if-none-match', 'if-modified-since', 'range'].flatMap((name) => {
          const value = request.headers[name];
          return typeof value === 'string' ? [[name, value]] : [];
        }),
      ),
    });
    // Unknown paths under /docs get the relay's own 404, like any other unknown path.
    if (answer.statusCode === 404) return reply.callNotFound();
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !NOT_FORWARDED.has(name)) reply.header(name, value);
    }
    return reply.code(answer.statusCode).send(answer.rawPayload);
  };
  app.get('/docs', { schema: { hide: true } }, swaggerUi);
  app.get('/docs/*', { schema: { hide: true } }, swaggerUi);
  // Not encapsulated: the generators read the routes the root instance collected.
}, { name: 'relay-docs', dependencies: ['relay-openapi'] });
