// One Fastify route (zod schemas + operationId/summary/description) → one OpenAPI 2.0 operation in
// the shape the connector platform wants: typed path and query parameters with labels, at most one
// body parameter, exactly one response schema (on 200, or 201), and 202 answers that declare the
// Location and Retry-After headers the flow engine follows.
import {
  ERROR_BODY_NOTE,
  RETRY_AFTER_DESCRIPTION,
  routeErrorsOf,
  routeSuccessesOf,
  WWW_AUTHENTICATE_DESCRIPTION,
} from './error-responses.js';
import {
  type DefinitionRegistry,
  labelFromName,
  type SwaggerSchema,
  toSwaggerSchema,
} from './openapi-schema.js';

export interface RouteSchemaLike {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  params?: unknown;
  querystring?: unknown;
  body?: unknown;
  headers?: unknown;
  response?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Keys a non-body parameter may carry (the connector schema's list for path and query parameters). */
const PARAMETER_KEYS = [
  'type',
  'format',
  'items',
  'collectionFormat',
  'default',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'enum',
  'multipleOf',
  'x-ms-summary',
  'description',
  'x-ms-visibility',
  'x-ms-dynamic-values',
  'x-ms-dynamic-list',
  'x-ms-enum-values',
  'x-ms-test-value',
] as const;

/** Operation-level extensions the connector schema accepts and we pass through from the route schema. */
const OPERATION_EXTENSIONS = [
  'x-ms-visibility',
  'x-ms-api-annotation',
  'x-ms-safe-operation',
  'x-ms-no-generic-test',
  'x-ms-pageable',
  'x-ms-trigger',
  'x-ms-trigger-hint',
];

const STATUS_TEXT: Record<string, string> = {
  '200': 'The result.',
  '201': 'Created.',
  '202': 'Accepted: the work continues; the flow engine polls the Location URL until it ends.',
  '204': 'Done; no content.',
  '400': 'The request is not valid; the error message says which field and why.',
  '401': 'Credentials are missing or not valid.',
  '403': 'The caller lacks the permission this action needs.',
  '404': 'Not found; the error message suggests what exists.',
  '409': 'A conflicting change or operation is in progress.',
  '412': 'The policy changed since the given revision was read.',
  '413': 'The request body is too large.',
  '422': 'The operation ended without success; the error names the cause.',
  '429': 'Too many requests; retry after the number of seconds in Retry-After.',
  '500': 'The relay failed unexpectedly.',
  '502': 'Upstream answered with an error.',
  '503': 'Upstream is not available; retry later.',
  '504': 'Upstream did not answer in time.',
};

export const ASYNC_HEADERS = {
  Location: {
    type: 'string',
    description: 'Absolute URL the flow engine polls until the operation ends.',
  },
  'Retry-After': {
    type: 'integer',
    description: 'Seconds to wait before polling the Location URL.',
  },
};

/** Response headers of an error status in the connector definition (no schema: a platform rule). */
function errorHeaders(retryAfter: boolean | undefined, wwwAuthenticate: boolean | undefined) {
  const headers: Record<string, SwaggerSchema> = {};
  if (retryAfter) headers['Retry-After'] = { type: 'integer', description: RETRY_AFTER_DESCRIPTION };
  if (wwwAuthenticate) headers['WWW-Authenticate'] = { type: 'string', description: WWW_AUTHENTICATE_DESCRIPTION };
  return Object.keys(headers).length ? { headers } : {};
}

/** Converts a params/querystring schema into parameters of the given kind. */
function buildParameters(
  source: unknown,
  location: 'path' | 'query' | 'header',
  registry: DefinitionRegistry,
  where: string,
): SwaggerSchema[] {
  if (source === undefined) return [];
  // The input form knows what is optional; the output form knows the type a string becomes
  // (z.stringbool(), z.coerce.number()), which is what the flow designer should offer.
  const input = toSwaggerSchema(source, 'input', registry, `${where} ${location}`);
  const output = toSwaggerSchema(source, 'output', registry, `${where} ${location}`);
  const properties = resolve(input, registry).properties as Record<string, SwaggerSchema> | undefined;
  const outputProperties = (resolve(output, registry).properties ?? {}) as Record<string, SwaggerSchema>;
  const required = new Set((resolve(input, registry).required as string[] | undefined) ?? []);
  if (!properties) return [];
  return Object.entries(properties).map(([name, raw]) => {
    const property = resolve(raw, registry);
    const outputProperty = resolve(outputProperties[name] ?? {}, registry);
    const typed: SwaggerSchema = { ...property };
    if ((typed.type === undefined || typed.type === 'string') && !typed.enum) {
      const t = outputProperty.type;
      if (t === 'boolean' || t === 'integer' || t === 'number') {
        typed.type = t;
        for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']) {
          if (outputProperty[k] !== undefined) typed[k] = outputProperty[k];
        }
      }
    }
    if (typed.default === undefined && outputProperty.default !== undefined)
      typed.default = outputProperty.default;
    if (typed.type === undefined) typed.type = 'string';
    if (typed.type === 'object') {
      registry.warn(
        `${where} ${location} ${name}`,
        'an object cannot be a path or query parameter; shown as a string',
      );
      typed.type = 'string';
    }
    const parameter: SwaggerSchema = {
      name,
      in: location,
      required: location === 'path' ? true : required.has(name),
    };
    for (const key of PARAMETER_KEYS) {
      if (typed[key] !== undefined) parameter[key] = typed[key];
    }
    if (parameter['x-ms-summary'] === undefined)
      parameter['x-ms-summary'] = typed.title ?? labelFromName(name);
    if (location === 'path')
      parameter['x-ms-url-encoding'] = typed['x-ms-url-encoding'] === 'double' ? 'double' : 'single';
    return parameter;
  });
}

function resolve(schema: SwaggerSchema, registry: DefinitionRegistry): SwaggerSchema {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/definitions/', '');
    const target = registry.definitions.get(name) ?? {};
    const { $ref: _ref, ...siblings } = schema;
    return { ...target, ...siblings };
  }
  return schema;
}

function responseDescription(code: string, source: unknown, converted: SwaggerSchema | undefined): string {
  const own = converted && typeof converted.description === 'string' ? converted.description : undefined;
  if (own) return own;
  const meta =
    source && typeof source === 'object' && 'description' in source
      ? (source as { description?: unknown }).description
      : undefined;
  if (typeof meta === 'string' && meta) return meta;
  return STATUS_TEXT[code] ?? (code.startsWith('2') ? 'Success.' : 'An error; the message says what to do.');
}

export interface BuiltOperation {
  operation: SwaggerSchema;
  isAsync: boolean;
}

/**
 * The operation for one route. The 200 schema becomes a shared definition: its zod id when it has
 * one, otherwise `<operationId>Response`.
 */
export function buildOperation(
  schema: RouteSchemaLike,
  method: string,
  registry: DefinitionRegistry,
  where: string,
): BuiltOperation {
  const operationId = schema.operationId ?? '';
  const parameters = [
    ...buildParameters(schema.params, 'path', registry, where),
    ...buildParameters(schema.querystring, 'query', registry, where),
  ];
  const operation: SwaggerSchema = {};
  if (schema.summary !== undefined) operation.summary = schema.summary;
  if (schema.description !== undefined) operation.description = schema.description;
  if (schema.operationId !== undefined) operation.operationId = schema.operationId;
  for (const key of OPERATION_EXTENSIONS) {
    if (schema[key] !== undefined) operation[key] = schema[key];
  }
  if (Array.isArray(schema.tags) && schema.tags.length) operation.tags = schema.tags;

  if (schema.body !== undefined && method !== 'GET') {
    const body = toSwaggerSchema(schema.body, 'input', registry, `${where} body`);
    const bodyParameter: SwaggerSchema = {
      name: 'body',
      in: 'body',
      required: true,
      'x-ms-summary': 'Request',
      description: typeof body.description === 'string' ? body.description : 'The request body.',
      schema: body,
    };
    parameters.push(bodyParameter);
    operation.consumes = ['application/json'];
  }
  if (parameters.length) operation.parameters = parameters;

  const responses: Record<string, SwaggerSchema> = {};
  const declared = schema.response ?? {};
  const codes = Object.keys(declared)
    .map((c) => c.toLowerCase())
    .filter((c) => /^\d{3}$/.test(c));
  const schemaCode = codes.includes('200') ? '200' : codes.includes('201') ? '201' : undefined;
  for (const code of codes.sort()) {
    const source = declared[code] ?? declared[code.toUpperCase()];
    if (code === schemaCode) {
      const converted = toSwaggerSchema(source, 'output', registry, `${where} response ${code}`);
      let ref = converted;
      if (converted.$ref === undefined) {
        const name = registry.add(`${operationId || 'Operation'}Response`, converted, 'output');
        ref = { $ref: `#/definitions/${name}` };
      }
      const description = routeSuccessesOf(schema)[code] ?? responseDescription(code, source, resolve(converted, registry));
      responses[code] = { description, schema: { $ref: ref.$ref } };
      // A polling trigger's 200 also carries the Location and Retry-After of the next check.
      if (schema['x-ms-trigger'] !== undefined) responses[code].headers = ASYNC_HEADERS;
    } else if (code === '202') {
      responses[code] = { description: routeSuccessesOf(schema)[code] ?? STATUS_TEXT['202']!, headers: ASYNC_HEADERS };
    } else {
      responses[code] = { description: STATUS_TEXT[code] ?? responseDescription(code, source, undefined) };
    }
  }
  if (!codes.some((c) => c.startsWith('2'))) responses['200'] = { description: STATUS_TEXT['200']! };
  for (const [code, error] of Object.entries(routeErrorsOf(schema))) {
    responses[code] = {
      description: `${error.when} ${ERROR_BODY_NOTE}`,
      ...errorHeaders(error.retryAfter, error.wwwAuthenticate),
    };
  }
  responses.default = {
    description: 'An error: {"error": {"code", "message", "correlationId", …}}; the message says what to do.',
  };
  operation.responses = responses;
  return { operation, isAsync: codes.includes('202') };
}
