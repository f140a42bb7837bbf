// The connector definition and Swagger UI, built when first asked for rather than at start.
// @fastify/swagger, Swagger UI and its static-file stack cost a cold start about 55 ms of CPU
// before the first request, and a replica woken by a flow call needs neither. On first use, a
// second Fastify instance (never listening) gets @fastify/swagger with the connector's transforms
// and Swagger UI, then the /v1 routes the relay collected, with the same schemas: the definition it
// generates is the one the routes describe, byte for byte. /docs requests are answered by it.
import Fastify from 'fastify';
import { importExternal } from '../external-import.js';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { ZOD_COMPILERS_ONLY, type RelayApp } from '../http/relay-app.js';
import { type DefinitionTarget, definitionWarnings, generateDefinition, registerOpenApi } from './openapi.js';
import type { SwaggerSchema } from './openapi-schema.js';
import { contractRoutes } from './openapi-contract.js';

export interface DocumentsOptions {
  /** The target of the definition Swagger UI shows (the relay's public host and sign-in). */
  uiTarget?: () => DefinitionTarget;
}

const built = new WeakMap<object, Promise<RelayApp>>();

/** The documents instance for this relay app, built once on first call (after the app is ready). */
export function documentsApp(app: RelayApp, options: DocumentsOptions = {}): Promise<RelayApp> {
  let found = built.get(app);
  if (!found) {
    found = buildDocumentsApp(app, options);
    // A failed build is tried again on the next request rather than remembered.
    found.catch(() => built.delete(app));
    built.set(app, found);
  }
  return found;
}

async function buildDocumentsApp(app: RelayApp, options: DocumentsOptions): Promise<RelayApp> {
  const docs = Fastify({ logger: false, schemaController: { compilersFactory: ZOD_COMPILERS_ONLY } }) as unknown as RelayApp;
  docs.setValidatorCompiler(validatorCompiler);
  docs.setSerializerCompiler(serializerCompiler);
  await registerOpenApi(docs);
  if (options.uiTarget) {
    const uiTarget = options.uiTarget;
    const { default: fastifySwaggerUi } = await importExternal<typeof import('@fastify/swagger-ui')>('@fastify/swagger-ui');
    await docs.register(fastifySwaggerUi, {
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
      transformSpecification: () => generateDefinition(docs, uiTarget()),
      transformSpecificationClone: false,
    });
  }
  for (const route of contractRoutes(app)) {
    docs.route({ method: route.method.toUpperCase() as 'GET', url: route.url, schema: route.schema as never, handler: async () => null });
  }
  await docs.ready();
  return docs;
}

/** The connector definition of this relay app for a public host. */
export async function connectorDefinition(app: RelayApp, target: DefinitionTarget): Promise<SwaggerSchema> {
  return generateDefinition(await documentsApp(app), target);
}

/** What the generator had to simplify for this relay app; empty when the schemas fit 2.0. */
export async function connectorDefinitionWarnings(app: RelayApp): Promise<string[]> {
  return definitionWarnings(await documentsApp(app));
}
