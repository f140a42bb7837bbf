// The document-level parts of the connector definition: title and description, the auth scheme the
// connection uses, certification metadata, the environment and package pickers, labels for fields
// that have none, and a stable key order so the committed file only changes when the API does.
import { labelFromName, type SwaggerSchema } from './openapi-schema.js';

export type ConnectorAuth = 'entra' | 'apikey' | 'none';

export const CONNECTOR_INFO = {
  title: 'Admin Relay',
  description:
    'Install application packages into environments and wait for the result in one action, and change the tenant isolation policy one rule at a time with dry runs, diffs, read-back checks and an audit trail.',
  version: '1.0',
  contact: {
    name: 'Admin Relay maintainers',
    url: 'https://relay.example.com/docs',
    email: 'relay-admins@example.com',
  },
};

/** The operation groups, declared once for both documents (tools expect every tag an operation uses). */
export const OPERATION_TAGS = [
  { name: 'Packages', description: 'Environments, application packages and installs.' },
  { name: 'Tenant isolation', description: 'The cross-tenant isolation policy and its audit trail.' },
];

export const ENTRA_AUTHORIZATION_URL = 'https://login.microsoftonline.com/common/oauth2/authorize';
export const ENTRA_TOKEN_URL = 'https://login.microsoftonline.com/common/oauth2/token';

/** securityDefinitions + security for the way the connection signs in (they must match apiProperties). */
export function securityFor(auth: ConnectorAuth): {
  securityDefinitions: SwaggerSchema;
  security: SwaggerSchema[];
} {
  if (auth === 'apikey') {
    return {
      securityDefinitions: {
        api_key: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An Admin Relay API key.' },
      },
      security: [{ api_key: [] }],
    };
  }
  if (auth === 'none') return { securityDefinitions: {}, security: [] };
  return {
    securityDefinitions: {
      oauth2_auth: {
        type: 'oauth2',
        flow: 'accessCode',
        authorizationUrl: ENTRA_AUTHORIZATION_URL,
        tokenUrl: ENTRA_TOKEN_URL,
        scopes: {},
        description: 'Microsoft Entra ID sign-in of the connection owner (delegated).',
      },
    },
    security: [{ oauth2_auth: [] }],
  };
}

export function connectorMetadata(websiteUrl: string, privacyUrl: string) {
  return [
    { propertyName: 'Website', propertyValue: websiteUrl },
    { propertyName: 'Privacy policy', propertyValue: privacyUrl },
    { propertyName: 'Categories', propertyValue: 'IT Operations;Security' },
  ];
}

const METHOD_ORDER = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];

type Paths = Record<string, Record<string, SwaggerSchema>>;

export function* operationsOf(doc: {
  paths?: unknown;
}): Generator<{ path: string; method: string; op: SwaggerSchema }> {
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (METHOD_ORDER.includes(method)) yield { path, method, op };
    }
  }
}

function deref(schema: SwaggerSchema | undefined, definitions: Record<string, SwaggerSchema>): SwaggerSchema {
  if (!schema) return {};
  if (typeof schema.$ref === 'string') return definitions[schema.$ref.replace('#/definitions/', '')] ?? {};
  return schema;
}

/** Where a list operation's 200 answer keeps its array, and the item's properties. */
function listShape(
  op: SwaggerSchema,
  definitions: Record<string, SwaggerSchema>,
): { collection?: string; item: SwaggerSchema } | undefined {
  const responses = op.responses as Record<string, SwaggerSchema> | undefined;
  const root = deref(responses?.['200']?.schema as SwaggerSchema | undefined, definitions);
  if (root.type === 'array') return { item: deref(root.items as SwaggerSchema, definitions) };
  for (const [name, prop] of Object.entries((root.properties ?? {}) as Record<string, SwaggerSchema>)) {
    const p = deref(prop, definitions);
    if (p.type === 'array') return { collection: name, item: deref(p.items as SwaggerSchema, definitions) };
  }
  return undefined;
}

function firstProperty(item: SwaggerSchema, names: string[]): string | undefined {
  const props = (item.properties ?? {}) as Record<string, unknown>;
  return names.find((n) => n in props);
}

/**
 * Environment and package dropdowns where a route did not declare its own: any `environmentId`
 * parameter picks from ListEnvironments, and any `uniqueName` parameter next to an
 * `environmentId` picks from ListPackages of the chosen environment.
 */
export function addDefaultPickers(doc: { paths?: unknown; definitions?: unknown }) {
  const definitions = (doc.definitions ?? {}) as Record<string, SwaggerSchema>;
  const byId = new Map<string, SwaggerSchema>();
  for (const { op } of operationsOf(doc))
    if (typeof op.operationId === 'string') byId.set(op.operationId, op);
  const pickers: Array<{
    param: string;
    source: string;
    values: string[];
    titles: string[];
    needsEnv: boolean;
  }> = [
    {
      param: 'environmentId',
      source: 'ListEnvironments',
      values: ['id', 'environmentId', 'name'],
      titles: ['displayName', 'name'],
      needsEnv: false,
    },
    {
      param: 'uniqueName',
      source: 'ListPackages',
      values: ['uniqueName'],
      titles: ['displayName', 'localizedName', 'uniqueName'],
      needsEnv: true,
    },
  ];
  for (const picker of pickers) {
    const sourceOp = byId.get(picker.source);
    if (!sourceOp) continue;
    const shape = listShape(sourceOp, definitions);
    if (!shape) continue;
    const valuePath = firstProperty(shape.item, picker.values);
    const titlePath = firstProperty(shape.item, picker.titles) ?? valuePath;
    if (!valuePath || !titlePath) continue;
    for (const { op } of operationsOf(doc)) {
      if (op.operationId === picker.source) continue;
      const params = (op.parameters ?? []) as SwaggerSchema[];
      const target = params.find((p) => p.name === picker.param && p.in !== 'body');
      if (!target || target['x-ms-dynamic-values'] || target['x-ms-dynamic-list']) continue;
      if (picker.needsEnv && !params.some((p) => p.name === 'environmentId')) continue;
      target['x-ms-dynamic-values'] = {
        operationId: picker.source,
        ...(picker.needsEnv ? { parameters: { environmentId: { parameter: 'environmentId' } } } : {}),
        ...(shape.collection ? { 'value-collection': shape.collection } : {}),
        'value-path': valuePath,
        'value-title': titlePath,
      };
    }
  }
}

/** Gives every schema property without a label one made from its name ("packageVersion" → "Package Version"). */
export function addMissingLabels(node: unknown) {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) addMissingLabels(n);
    return;
  }
  const obj = node as SwaggerSchema;
  if (obj.properties && typeof obj.properties === 'object' && !Array.isArray(obj.properties)) {
    for (const [name, prop] of Object.entries(obj.properties as Record<string, SwaggerSchema>)) {
      if (
        prop &&
        typeof prop === 'object' &&
        prop['x-ms-summary'] === undefined &&
        prop.title === undefined
      ) {
        prop['x-ms-summary'] = labelFromName(name);
      }
    }
  }
  for (const [key, value] of Object.entries(obj)) {
    if (key !== 'enum' && key !== 'default' && key !== 'example') addMissingLabels(value);
  }
}

function sortedObject<T>(
  obj: Record<string, T>,
  compare?: (a: string, b: string) => number,
): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(obj).sort(compare)) out[key] = obj[key]!;
  return out;
}

const ROOT_ORDER = [
  'swagger',
  'info',
  'host',
  'basePath',
  'schemes',
  'consumes',
  'produces',
  'paths',
  'definitions',
  'parameters',
  'responses',
  'securityDefinitions',
  'security',
  'tags',
  'x-ms-connector-metadata',
];

/** Paths, methods and definitions in a fixed order, whatever order the routes were registered in. */
export function canonicalOrder(doc: SwaggerSchema): SwaggerSchema {
  const paths: Paths = {};
  for (const [path, item] of Object.entries(sortedObject((doc.paths ?? {}) as Paths))) {
    paths[path] = sortedObject(item, (a, b) => METHOD_ORDER.indexOf(a) - METHOD_ORDER.indexOf(b));
  }
  const ordered: SwaggerSchema = {};
  const withSorted: SwaggerSchema = {
    ...doc,
    paths,
    definitions: sortedObject((doc.definitions ?? {}) as Record<string, unknown>),
  };
  for (const key of ROOT_ORDER) if (withSorted[key] !== undefined) ordered[key] = withSorted[key];
  for (const key of Object.keys(withSorted).sort()) if (!(key in ordered)) ordered[key] = withSorted[key];
  return ordered;
}

/** The committed file's exact text: two-space JSON with a final newline, no BOM. */
export function serializeDefinition(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
