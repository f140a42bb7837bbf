// The full API contract (OpenAPI 3.1) from the same zod route schemas as the connector definition.
// The connector definition is the platform-shaped projection (one schema per operation, none on
// errors or 202); this document says everything: every status an operation answers with its body
// (the 202 body, the one ErrorResponse shape) and every header (Location, Retry-After,
// WWW-Authenticate, x-correlation-id). Served at /openapi.json, committed as openapi.json.
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { RelayApp } from '../http/relay-app.js';
import { CONNECTOR_INFO, OPERATION_TAGS } from './openapi-document.js';
import {
  CORRELATION_ID_DESCRIPTION,
  errorResponseSchema,
  RETRY_AFTER_DESCRIPTION,
  routeErrorsOf,
  routeSuccessesOf,
  WWW_AUTHENTICATE_DESCRIPTION,
} from './error-responses.js';
import { isZodSchema } from './openapi-schema.js';
import type { RouteSchemaLike } from './openapi-operation.js';

type Json = Record<string, unknown>;

/** Which sign-in the document declares: the committed file lists both the relay supports. */
export type ContractAuth = 'entra' | 'apikey' | 'none' | 'all';

export interface ContractRoute {
  method: string;
  url: string;
  schema: RouteSchemaLike;
}

const routesByApp = new WeakMap<object, ContractRoute[]>();

/** The /v1 routes collected so far (method in lower case, HEAD left out). */
export function contractRoutes(app: RelayApp): readonly ContractRoute[] {
  return routesByApp.get(app) ?? [];
}

/** Remembers every /v1 route registered after this call (call it before the routes). */
export function collectContractRoutes(app: RelayApp): void {
  const routes: ContractRoute[] = [];
  routesByApp.set(app, routes);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1/')) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({ method: method.toLowerCase(), url: route.url, schema: (route.schema ?? {}) as RouteSchemaLike });
    }
  });
}

const SUCCESS_TEXT: Record<string, string> = {
  '200': 'The result.',
  '201': 'Created.',
  '202': 'Accepted: the work continues. Poll the Location URL (no credentials needed) after Retry-After seconds until it answers something other than 202.',
};

/** Named schemas shared by the whole document (components.schemas). */
class Components {
  readonly schemas: Record<string, Json> = {};

  add(name: string, schema: Json, io: 'input' | 'output'): string {
    const candidates = [name, io === 'input' ? `${name}Input` : `${name}Output`];
    for (let i = 2; i < 100; i++) candidates.push(`${name}${i}`);
    for (const candidate of candidates) {
      const existing = this.schemas[candidate];
      if (!existing) {
        this.schemas[candidate] = schema;
        return candidate;
      }
      if (isDeepStrictEqual(existing, schema)) return candidate;
    }
    throw new Error(`too many different schemas named ${name}`);
  }

  /** A zod schema as a JSON Schema 2020-12 object; named parts (`.meta({ id })`) go to components. */
  convert(source: unknown, io: 'input' | 'output'): Json {
    if (!isZodSchema(source)) return structuredClone((source ?? {}) as Json);
    const json = z.toJSONSchema(source, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
    delete json.$schema;
    const defs = (json.$defs ?? {}) as Record<string, Json>;
    delete json.$defs;
    // Point references at components first (so equal shapes compare equal), then rename the
    // ones whose name was already taken by a different shape.
    const toComponents = new Map(Object.keys(defs).map((n) => [`#/$defs/${n}`, `#/components/schemas/${n}`]));
    rewriteRefs(json, toComponents);
    rewriteRefs(defs, toComponents);
    const renames = new Map<string, string>();
    for (const [name, def] of Object.entries(defs)) {
      stripConnectorKeys(def);
      const stored = this.add(name, def, io);
      if (stored !== name) renames.set(`#/components/schemas/${name}`, `#/components/schemas/${stored}`);
    }
    if (renames.size) {
      rewriteRefs(json, renames);
      for (const name of new Set(renames.values())) rewriteRefs(this.schemas[name.slice('#/components/schemas/'.length)], renames);
    }
    stripConnectorKeys(json);
    return json;
  }
}

function rewriteRefs(node: unknown, renames: Map<string, string>): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) rewriteRefs(n, renames);
    return;
  }
  const obj = node as Json;
  if (typeof obj.$ref === 'string' && renames.has(obj.$ref)) obj.$ref = renames.get(obj.$ref);
  for (const value of Object.values(obj)) rewriteRefs(value, renames);
}

/** The x-ms-* keys steer the flow designer; they mean nothing in the full contract. */
function stripConnectorKeys(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) stripConnectorKeys(n);
    return;
  }
  const obj = node as Json;
  for (const key of Object.keys(obj)) {
    if (key.startsWith('x-ms-')) delete obj[key];
    else if (key !== 'enum' && key !== 'default' && key !== 'examples') stripConnectorKeys(obj[key]);
  }
}

function parametersOf(source: unknown, location: 'path' | 'query', components: Components): Json[] {
  if (source === undefined) return [];
  // The input form knows what is optional; the output form knows what a query string becomes
  // (z.stringbool() → boolean, z.coerce.number() → integer).
  const input = components.convert(source, 'input');
  const output = components.convert(source, 'output');
  const inputProps = (input.properties ?? {}) as Record<string, Json>;
  const outputProps = (output.properties ?? {}) as Record<string, Json>;
  const required = new Set((input.required as string[] | undefined) ?? []);
  return Object.entries(inputProps).map(([name, prop]) => {
    const out = outputProps[name] ?? {};
    const typedByOutput =
      (prop.type === undefined || prop.type === 'string') && !prop.enum && ['boolean', 'integer', 'number'].includes(out.type as string);
    const { description, ...schema } = typedByOutput ? out : { ...prop, ...(out.default !== undefined ? { default: out.default } : {}) };
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema,
    };
  });
}

function header(description: string, schema: Json, required = false): Json {
  return { description, required, schema };
}

const CORRELATION_HEADER = header(CORRELATION_ID_DESCRIPTION, { type: 'string' }, true);

function operationOf(route: ContractRoute, components: Components): Json {
  const s = route.schema;
  const op: Json = {};
  for (const key of ['operationId', 'summary', 'description', 'tags'] as const) if (s[key] !== undefined) op[key] = s[key];
  const parameters = [...parametersOf(s.params, 'path', components), ...parametersOf(s.querystring, 'query', components)];
  if (parameters.length) op.parameters = parameters;
  if (s.body !== undefined) {
    op.requestBody = { required: true, content: { 'application/json': { schema: components.convert(s.body, 'input') } } };
  }
  const responses: Record<string, Json> = {};
  for (const [code, source] of Object.entries(s.response ?? {})) {
    const headers: Json = { 'x-correlation-id': CORRELATION_HEADER };
    if (s['x-ms-trigger'] !== undefined && (code === '200' || code === '202')) {
      // A polling trigger: every answer says where and when the next check goes, the cursor in it.
      headers.Location = header('Absolute URL of the next check, with the cursor; called with the connection.', { type: 'string', format: 'uri' }, true);
      headers['Retry-After'] = header(RETRY_AFTER_DESCRIPTION, { type: 'integer', minimum: 1 }, true);
    } else if (code === '202') {
      headers.Location = header('Absolute, signed URL to poll until the operation ends; no credentials needed.', { type: 'string', format: 'uri' }, true);
      headers['Retry-After'] = header(RETRY_AFTER_DESCRIPTION, { type: 'integer', minimum: 1 }, true);
    }
    responses[code] = {
      description: routeSuccessesOf(s)[code] ?? SUCCESS_TEXT[code] ?? 'Success.',
      headers,
      content: { 'application/json': { schema: components.convert(source, 'output') } },
    };
  }
  for (const [code, error] of Object.entries(routeErrorsOf(s))) {
    const headers: Json = { 'x-correlation-id': CORRELATION_HEADER };
    if (error.retryAfter) headers['Retry-After'] = header(RETRY_AFTER_DESCRIPTION, { type: 'integer', minimum: 0 }, code === '429');
    if (error.wwwAuthenticate) headers['WWW-Authenticate'] = header(WWW_AUTHENTICATE_DESCRIPTION, { type: 'string' });
    responses[code] = {
      description: error.when,
      headers,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } },
    };
  }
  op.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
  return op;
}

const SECURITY_SCHEMES: Record<Exclude<ContractAuth, 'none' | 'all'>, [string, Json]> = {
  entra: [
    'entra',
    { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A Microsoft Entra ID access token for the relay (AUTH_MODE=entra).' },
  ],
  apikey: ['api_key', { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An Admin Relay API key (AUTH_MODE=apikey).' }],
};

export interface ContractTarget {
  /** The relay's public origin, e.g. PUBLIC_BASE_URL. */
  serverUrl: string;
  auth: ContractAuth;
}

/** The full contract for a relay at `serverUrl`. Call after `app.ready()`. */
export function generateContract(app: RelayApp, target: ContractTarget): Json {
  const routes = routesByApp.get(app) ?? [];
  const components = new Components();
  // Registers ErrorResponse (the error answers refer to it by name).
  components.convert(errorResponseSchema, 'output');
  const schemes = target.auth === 'all' ? (['entra', 'apikey'] as const) : target.auth === 'none' ? [] : [target.auth];
  const security = schemes.map((k) => ({ [SECURITY_SCHEMES[k][0]]: [] }));
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of [...routes].sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method))) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const op = operationOf(route, components);
    // The wait URL is signed: the flow engine polls it without credentials.
    if (route.schema['x-ms-visibility'] === 'internal' && route.url.endsWith('/wait')) op.security = [{}, ...security];
    paths[path] ??= {};
    paths[path][route.method] = op;
  }
  const sortedSchemas = Object.fromEntries(Object.entries(components.schemas).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: '3.1.0',
    info: {
      title: CONNECTOR_INFO.title,
      version: CONNECTOR_INFO.version,
      description: `${CONNECTOR_INFO.description} This is the full contract: every status each operation answers, with its body and headers. The connector definition (/apiDefinition.swagger.json) is its platform-shaped projection.`,
      contact: CONNECTOR_INFO.contact,
    },
    servers: [{ url: target.serverUrl }],
    tags: OPERATION_TAGS,
    paths,
    components: {
      schemas: sortedSchemas,
      securitySchemes: Object.fromEntries(schemes.map((k) => SECURITY_SCHEMES[k])),
    },
    security,
  };
}
