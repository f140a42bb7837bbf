// The connector definition (OpenAPI 2.0) generated from the route schemas: zod is the single source.
// @fastify/swagger collects the routes and serves Swagger UI; its 2.0 mode cannot read zod, so our
// `transform` builds each operation itself (openapi-operation.ts) and `transformObject` assembles
// the document (openapi-document.ts). Only /v1 routes are part of the connector.
import { type RelayApp, relayPlugin } from '../http/relay-app.js';
import { WAIT_OPERATION } from './public.js';
import {
  addDefaultPickers,
  addMissingLabels,
  CONNECTOR_INFO,
  type ConnectorAuth,
  canonicalOrder,
  connectorMetadata,
  OPERATION_TAGS,
  operationsOf,
  securityFor,
} from './openapi-document.js';
import { importExternal } from '../external-import.js';
import { collectContractRoutes } from './openapi-contract.js';
import { buildOperation, type RouteSchemaLike } from './openapi-operation.js';
import { DefinitionRegistry, dropUnusedDefinitions, inlineNullableRefs, type SwaggerSchema } from './openapi-schema.js';

export type { ConnectorAuth } from './openapi-document.js';

export interface DefinitionTarget {
  /** Bare host (and port), no scheme: `relay.contoso.com`. */
  host: string;
  basePath?: string;
  schemes?: string[];
  /** The connection's sign-in; `entra` (the default) is what the committed definition uses. */
  auth?: ConnectorAuth;
  /** Certification metadata; default to the relay's own Swagger UI page. */
  websiteUrl?: string;
  privacyUrl?: string;
}

export const PLACEHOLDER_HOST = 'relay.example.com';
const STASH = 'x-relay-operation';

/** The internal Location target: part of the definition so the connector's gateway routes it, hidden from makers. */
const WAIT_ROUTE = /^\/v1\/.*\/wait$/;

const warningsByApp = new WeakMap<object, string[]>();
const documentState = new WeakMap<object, DefinitionRegistry>();

function registryFor(swaggerObject: object): DefinitionRegistry {
  let registry = documentState.get(swaggerObject);
  if (!registry) {
    registry = new DefinitionRegistry();
    documentState.set(swaggerObject, registry);
  }
  return registry;
}

/** @fastify/swagger with the connector's transforms, on an app whose /v1 routes are registered after
 *  it. The relay itself does this only on first use (documents-app.ts); the package is loaded then. */
export async function registerOpenApi(app: RelayApp): Promise<void> {
  collectContractRoutes(app);
  const warnings: string[] = [];
  warningsByApp.set(app, warnings);
  const { default: fastifySwagger } = await importExternal<typeof import('@fastify/swagger')>('@fastify/swagger');
  await app.register(fastifySwagger, {
    swagger: {
      info: CONNECTOR_INFO,
      host: PLACEHOLDER_HOST,
      schemes: ['https'],
      consumes: ['application/json'],
      produces: ['application/json'],
      tags: OPERATION_TAGS,
      ...(securityFor('entra') as object),
    },
    transform: (input) => {
      const { schema, url, route } = input;
      const swaggerObject = (input as unknown as { swaggerObject: object }).swaggerObject;
      const routeSchema = (schema ?? {}) as RouteSchemaLike;
      if (!url.startsWith('/v1/') && url !== '/v1') return { schema: { hide: true } as never, url };
      const isWait = WAIT_ROUTE.test(url);
      if (routeSchema.hide && !isWait) return { schema: { hide: true } as never, url };
      const effective: RouteSchemaLike = isWait
        ? {
            ...WAIT_OPERATION,
            ...routeSchema,
            operationId: routeSchema.operationId ?? WAIT_OPERATION.operationId,
            'x-ms-visibility': 'internal',
          }
        : routeSchema;
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const registry = registryFor(swaggerObject);
      const { operation } = buildOperation(
        effective,
        String(methods[0]).toUpperCase(),
        registry,
        `${methods[0]} ${url}`,
      );
      return {
        url,
        schema: {
          operationId: effective.operationId,
          summary: effective.summary,
          description: effective.description,
          [STASH]: operation,
        } as never,
      };
    },
    transformObject: (documentObject) => {
      const swaggerObject = (documentObject as { swaggerObject: SwaggerSchema }).swaggerObject;
      const registry = registryFor(swaggerObject);
      for (const { op } of operationsOf(swaggerObject)) {
        const built = op[STASH] as SwaggerSchema | undefined;
        for (const key of Object.keys(op)) delete op[key];
        if (built) Object.assign(op, built);
      }
      const doc: SwaggerSchema = {
        ...swaggerObject,
        definitions: Object.fromEntries(registry.definitions),
        'x-ms-connector-metadata': connectorMetadata(
          `https://${PLACEHOLDER_HOST}/docs`,
          `https://${PLACEHOLDER_HOST}/docs`,
        ),
      };
      inlineNullableRefs(doc.paths, doc.definitions as Record<string, SwaggerSchema>);
      inlineNullableRefs(doc.definitions, doc.definitions as Record<string, SwaggerSchema>);
      dropUnusedDefinitions(doc);
      addDefaultPickers(doc);
      addMissingLabels(doc.paths);
      addMissingLabels(doc.definitions);
      warnings.push(...registry.warnings);
      return canonicalOrder(doc) as never;
    },
  });
}

/**
 * The connector definition for a given public host. Call after `app.ready()`. The result is a fresh
 * copy, so callers may change it.
 */
export function generateDefinition(app: RelayApp, target: DefinitionTarget): SwaggerSchema {
  const base = structuredClone(app.swagger() as unknown as SwaggerSchema);
  const basePath = target.basePath && target.basePath !== '' ? target.basePath : '/';
  const origin = `${(target.schemes ?? ['https'])[0]}://${target.host}${basePath === '/' ? '' : basePath}`;
  const doc: SwaggerSchema = {
    ...base,
    host: target.host,
    basePath,
    schemes: target.schemes ?? ['https'],
    ...securityFor(target.auth ?? 'entra'),
    'x-ms-connector-metadata': connectorMetadata(
      target.websiteUrl ?? `${origin}/docs`,
      target.privacyUrl ?? target.websiteUrl ?? `${origin}/docs`,
    ),
  };
  const info = { ...(doc.info as SwaggerSchema) };
  info.contact = { ...(info.contact as SwaggerSchema), url: target.websiteUrl ?? `${origin}/docs` };
  doc.info = info;
  return canonicalOrder(doc);
}

/** host, basePath and schemes from an absolute base URL such as PUBLIC_BASE_URL. */
export function targetFromBaseUrl(baseUrl: string): Pick<DefinitionTarget, 'host' | 'basePath' | 'schemes'> {
  const url = new URL(baseUrl);
  const basePath = url.pathname.replace(/\/+$/, '') || '/';
  return { host: url.host, basePath, schemes: [url.protocol.replace(':', '')] };
}

/** What the generator had to simplify (unions, unknown extensions…); empty when the schemas fit 2.0. */
export function definitionWarnings(app: RelayApp): string[] {
  return [...new Set(warningsByApp.get(app) ?? [])];
}

/**
 * Collects the /v1 routes as they are registered (features name this plugin as a dependency, so it
 * comes first). Both documents are generated from them when first asked for: /openapi.json directly,
 * the connector definition and Swagger UI through documents-app.ts.
 */
export const openApiPlugin = relayPlugin((app) => collectContractRoutes(app), { name: 'relay-openapi' });
