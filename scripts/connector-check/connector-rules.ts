// The project's own connector rules (the platform's machine-checkable certification rules), as
// functions that return findings (one sentence each; empty means the package passes).
// `npm run check-connector` runs them on a built package; tests run them on the committed package,
// on both built variants and on the fixture routes.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import {
  validateDefinitionSchema,
  validatePropertiesSchema,
  validateSettingsSchema,
} from './connector-schemas.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const FORMATS = new Set([
  'int32',
  'int64',
  'float',
  'double',
  'byte',
  'binary',
  'date',
  'date-time',
  'password',
  'date-no-tz',
  'email',
  'html',
  'uri',
  'uuid',
]);
const CATEGORIES = new Set([
  'AI',
  'Business Management',
  'Business Intelligence',
  'Collaboration',
  'Commerce',
  'Communication',
  'Content and Files',
  'Finance',
  'Data',
  'Human Resources',
  'Internet of Things',
  'IT Operations',
  'Lifestyle and Entertainment',
  'Marketing',
  'Productivity',
  'Sales and CRM',
  'Security',
  'Social Media',
  'Website',
]);
const MAX_OPERATIONS = 256;
const MAX_SCHEMAS_PER_OPERATION = 16_384;
const MAX_SCHEMAS_PER_BODY = 512;

export function* operations(doc: Obj): Generator<{ path: string; method: string; op: Obj; pathItem: Obj }> {
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Obj>)) {
    for (const [method, op] of Object.entries(item))
      if (METHODS.includes(method) && isObj(op)) yield { path, method, op, pathItem: item };
  }
}

export function resolveRef(doc: Obj, ref: string): Obj | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const part of ref.slice(2).split('/')) {
    if (!isObj(node)) return undefined;
    node = node[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return isObj(node) ? node : undefined;
}

export function deref(doc: Obj, schema: unknown): Obj {
  let node = isObj(schema) ? schema : {};
  for (let i = 0; i < 32 && typeof node.$ref === 'string'; i++) node = resolveRef(doc, node.$ref) ?? {};
  return node;
}

export function parametersOf(doc: Obj, op: Obj, pathItem: Obj = {}): Obj[] {
  return [...((pathItem.parameters ?? []) as Obj[]), ...((op.parameters ?? []) as Obj[])].map((p) =>
    typeof p.$ref === 'string' ? (resolveRef(doc, p.$ref) ?? {}) : p,
  );
}

function isAbsoluteUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** Walks every schema object under `node`, calling `visit` with a readable location. */
function walkSchemas(node: unknown, where: string, visit: (schema: Obj, where: string) => void, depth = 0) {
  if (!isObj(node) || depth > 64) return;
  visit(node, where);
  if (isObj(node.properties)) {
    for (const [name, child] of Object.entries(node.properties))
      walkSchemas(child, `${where}.${name}`, visit, depth + 1);
  }
  if (Array.isArray(node.items)) {
    node.items.forEach((c, i) => {
      walkSchemas(c, `${where}[${i}]`, visit, depth + 1);
    });
  } else if (isObj(node.items)) walkSchemas(node.items, `${where}[]`, visit, depth + 1);
  if (isObj(node.additionalProperties))
    walkSchemas(node.additionalProperties, `${where}{}`, visit, depth + 1);
  if (Array.isArray(node.allOf)) {
    node.allOf.forEach((c, i) => {
      walkSchemas(c, `${where}.allOf[${i}]`, visit, depth + 1);
    });
  }
}

/** Counts schema nodes reachable from `schema`, following refs, and reports loops. */
function countSchemas(doc: Obj, schema: unknown, stack: string[] = []): { count: number; loop?: string } {
  if (!isObj(schema)) return { count: 0 };
  if (typeof schema.$ref === 'string') {
    if (stack.includes(schema.$ref)) return { count: 0, loop: [...stack, schema.$ref].join(' → ') };
    return countSchemas(doc, resolveRef(doc, schema.$ref), [...stack, schema.$ref]);
  }
  let count = 1;
  let loop: string | undefined;
  const children: unknown[] = [
    ...Object.values(isObj(schema.properties) ? schema.properties : {}),
    ...(Array.isArray(schema.items) ? schema.items : [schema.items]),
    schema.additionalProperties,
    ...(Array.isArray(schema.allOf) ? schema.allOf : []),
  ];
  for (const child of children) {
    const r = countSchemas(doc, child, stack);
    count += r.count;
    loop ??= r.loop;
  }
  return { count, loop };
}

function schemaRules(doc: Obj, schema: Obj, where: string, out: string[]) {
  for (const k of ['anyOf', 'oneOf', 'nullable', 'const', 'not']) {
    if (k in schema && typeof schema[k] !== 'string')
      out.push(`${where}: uses ${k}, which OpenAPI 2.0 does not have`);
  }
  if (Array.isArray(schema.type)) out.push(`${where}: has a type array; use one type and x-nullable`);
  if (typeof schema.format === 'string' && !FORMATS.has(schema.format))
    out.push(`${where}: format ${schema.format} is not accepted`);
  if (Array.isArray(schema.required)) {
    if (schema.required.length === 0) out.push(`${where}: an empty required array`);
    if (schema.type !== 'object') out.push(`${where}: required on a schema that is not type object`);
  }
  if (typeof schema.$ref === 'string') {
    if (!/^#\/(definitions|parameters|responses)\//.test(schema.$ref))
      out.push(`${where}: $ref ${schema.$ref} must point into #/definitions, #/parameters or #/responses`);
    else if (!resolveRef(doc, schema.$ref)) out.push(`${where}: $ref ${schema.$ref} does not resolve`);
  }
  enumValueRules(schema, where, out);
  if (
    schema['x-ms-visibility'] !== undefined &&
    !['important', 'advanced', 'internal'].includes(schema['x-ms-visibility'] as string)
  ) {
    out.push(`${where}: x-ms-visibility must be important, advanced or internal`);
  }
  // Labels: every property a maker sees (not internal) needs a label and a tooltip.
  if (isObj(schema.properties)) {
    for (const [name, raw] of Object.entries(schema.properties)) {
      if (!isObj(raw) || raw['x-ms-visibility'] === 'internal') continue;
      if (typeof raw['x-ms-summary'] !== 'string' && typeof raw.title !== 'string')
        out.push(`${where}.${name}: no x-ms-summary or title`);
      else if (typeof raw['x-ms-summary'] === 'string' && raw['x-ms-summary'].length > 80)
        out.push(`${where}.${name}: x-ms-summary longer than 80 characters`);
      const target = deref(doc, raw);
      if (typeof raw.description !== 'string' && typeof target.description !== 'string')
        out.push(`${where}.${name}: no description`);
    }
  }
}

function enumValueRules(node: Obj, where: string, out: string[]) {
  const labels = node['x-ms-enum-values'];
  if (labels === undefined) return;
  if (!Array.isArray(labels)) {
    out.push(`${where}: x-ms-enum-values must be an array`);
    return;
  }
  const values = labels.map((l) => (isObj(l) ? l.value : undefined));
  const allowed = Array.isArray(node.enum) ? node.enum : [];
  for (const v of values)
    if (!allowed.includes(v))
      out.push(`${where}: x-ms-enum-values value ${JSON.stringify(v)} is not in enum`);
  if (new Set(values).size !== values.length) out.push(`${where}: x-ms-enum-values has duplicates`);
  for (const l of labels)
    if (!isObj(l) || typeof l.displayName !== 'string' || !l.displayName)
      out.push(`${where}: x-ms-enum-values entry without displayName`);
}

/** Follows a dotted path ("value", "data/items") in a schema, through refs. */
function schemaAt(doc: Obj, schema: Obj, path: string | undefined): Obj | undefined {
  let node = deref(doc, schema);
  if (!path) return node;
  for (const part of path.split(/[./]/).filter(Boolean)) {
    const props = isObj(node.properties) ? node.properties : {};
    if (!(part in props)) return undefined;
    node = deref(doc, props[part]);
  }
  return node;
}

function dynamicValuesRules(
  doc: Obj,
  dv: unknown,
  callerParams: Obj[],
  where: string,
  out: string[],
  kind: string,
) {
  if (!isObj(dv)) return;
  const opId = dv.operationId;
  const target = [...operations(doc)].find((o) => o.op.operationId === opId);
  if (!target) {
    out.push(`${where}: ${kind} names unknown operation ${String(opId)}`);
    return;
  }
  const ok = deref(doc, ((target.op.responses as Obj)?.['200'] as Obj | undefined)?.schema);
  const collectionPath = (kind === 'x-ms-dynamic-list' ? dv.itemsPath : dv['value-collection']) as
    | string
    | undefined;
  const collection = schemaAt(doc, ok, collectionPath);
  if (collection?.type !== 'array') {
    out.push(`${where}: ${kind} collection ${collectionPath ?? '(root)'} of ${String(opId)} is not an array`);
    return;
  }
  const item = deref(doc, collection.items);
  const valuePath = (kind === 'x-ms-dynamic-list' ? dv.itemValuePath : dv['value-path']) as
    | string
    | undefined;
  const titlePath = (kind === 'x-ms-dynamic-list' ? dv.itemTitlePath : dv['value-title']) as
    | string
    | undefined;
  for (const [label, p] of [
    ['value path', valuePath],
    ['title path', titlePath],
  ] as const) {
    if (typeof p !== 'string' || !schemaAt(doc, item, p))
      out.push(`${where}: ${kind} ${label} ${String(p)} is not a property of the ${String(opId)} items`);
  }
  const targetParams = parametersOf(doc, target.op, target.pathItem);
  for (const required of targetParams.filter((p) => p.required === true && p.in !== 'body')) {
    const given = isObj(dv.parameters) ? dv.parameters[required.name as string] : undefined;
    if (given === undefined)
      out.push(
        `${where}: ${kind} does not pass required parameter ${String(required.name)} of ${String(opId)}`,
      );
  }
  for (const [name, value] of Object.entries(isObj(dv.parameters) ? dv.parameters : {})) {
    if (!targetParams.some((p) => p.name === name))
      out.push(`${where}: ${kind} passes ${name}, which ${String(opId)} does not take`);
    const ref = isObj(value) ? (value.parameter ?? value.parameterReference) : undefined;
    if (typeof ref === 'string' && !callerParams.some((p) => p.name === ref.split('/')[0])) {
      out.push(`${where}: ${kind} refers to parameter ${ref}, which this operation does not have`);
    }
  }
}

export interface DefinitionCheckOptions {
  /** The host the definition must carry (omit to accept any valid host). */
  host?: string;
  /** Byte size of the file, when checking a file. */
  sizeBytes?: number;
}

/** Every platform rule on the OpenAPI 2.0 definition, including validation against the vendored schema. */
export function checkDefinition(doc: Obj, options: DefinitionCheckOptions = {}): string[] {
  const out: string[] = [...validateDefinitionSchema(doc)];
  if (options.sizeBytes !== undefined && options.sizeBytes >= 1_048_576)
    out.push(`definition is ${options.sizeBytes} bytes; must be under 1 MiB`);

  // Root
  if (doc.swagger !== '2.0') out.push('swagger must be "2.0"');
  const info = (doc.info ?? {}) as Obj;
  const title = info.title;
  if (typeof title !== 'string' || title.length === 0 || title.length > 30)
    out.push('info.title must be 1 to 30 characters');
  else {
    if (!/[A-Za-z0-9)]$/.test(title)) out.push('info.title must end with a letter, digit or )');
    if (/\b(API|Connector|Power (Apps|Automate|BI|Platform)|Copilot)\b/i.test(title))
      out.push('info.title must not name API, Connector or a product');
  }
  const description = info.description;
  if (typeof description !== 'string' || description.length < 30 || description.length > 500)
    out.push('info.description must be 30 to 500 characters');
  if (typeof info.version !== 'string' || !info.version) out.push('info.version is missing');
  const contact = (info.contact ?? {}) as Obj;
  if (typeof contact.name !== 'string' || !contact.name) out.push('info.contact.name is missing');
  if (!isAbsoluteUrl(contact.url)) out.push('info.contact.url must be an absolute URL');
  if (typeof contact.email !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(contact.email))
    out.push('info.contact.email must be an email address');
  if (typeof doc.host !== 'string' || !/^[^{}/ :\\]+(?::\d+)?$/.test(doc.host))
    out.push(`host ${String(doc.host)} must be a bare host name without scheme or path`);
  if (options.host !== undefined && doc.host !== options.host)
    out.push(`host is ${String(doc.host)}, expected ${options.host}`);
  if (typeof doc.basePath !== 'string' || !doc.basePath.startsWith('/'))
    out.push('basePath must start with /');
  if (!Array.isArray(doc.schemes) || doc.schemes.length !== 1 || doc.schemes[0] !== 'https')
    out.push('schemes must be ["https"]');
  for (const k of ['consumes', 'produces']) {
    if (!Array.isArray(doc[k]) || !(doc[k] as unknown[]).includes('application/json'))
      out.push(`${k} must include application/json`);
  }
  const meta = Array.isArray(doc['x-ms-connector-metadata']) ? (doc['x-ms-connector-metadata'] as Obj[]) : [];
  const metaValue = (name: string) => meta.find((m) => m.propertyName === name)?.propertyValue;
  if (!isAbsoluteUrl(metaValue('Website')))
    out.push('x-ms-connector-metadata needs Website as an absolute URL');
  if (!isAbsoluteUrl(metaValue('Privacy policy')))
    out.push('x-ms-connector-metadata needs Privacy policy as an absolute URL');
  const categories =
    typeof metaValue('Categories') === 'string' ? (metaValue('Categories') as string).split(';') : [];
  if (categories.length === 0 || categories.length > 2 || !categories.every((c) => CATEGORIES.has(c))) {
    out.push('x-ms-connector-metadata Categories must list 1 or 2 allowed categories');
  }
  if (JSON.stringify(doc).includes('"x-ms-long-running-operation"'))
    out.push('x-ms-long-running-operation is not accepted by the platform');

  // Operations
  const seenIds = new Set<string>();
  const normalised = new Map<string, string>();
  let count = 0;
  for (const path of Object.keys((doc.paths ?? {}) as Obj)) {
    if (/[?#*]/.test(path)) out.push(`path ${path} contains ? # or *`);
    if (!path.startsWith('/')) out.push(`path ${path} must start with /`);
    const key = path.toLowerCase().replace(/\{[^}]+\}/g, '{}');
    if (normalised.has(key))
      out.push(`paths ${path} and ${normalised.get(key)} differ only by case or variable names`);
    normalised.set(key, path);
  }
  for (const { path, method, op, pathItem } of operations(doc)) {
    count++;
    const where = `${method.toUpperCase()} ${path}`;
    const id = op.operationId;
    if (typeof id !== 'string' || !/^[A-Z][A-Za-z0-9]*$/.test(id))
      out.push(`${where}: operationId must be PascalCase letters and digits`);
    else if (seenIds.has(id)) out.push(`${where}: operationId ${id} is not unique`);
    else seenIds.add(id);
    const summary = op.summary;
    if (typeof summary !== 'string' || !summary) out.push(`${where}: summary is missing`);
    else {
      if (summary.length > 80) out.push(`${where}: summary is longer than 80 characters`);
      if (summary.includes('/')) out.push(`${where}: summary contains /`);
      if (!/[A-Za-z0-9)]$/.test(summary)) out.push(`${where}: summary must end with a letter, digit or )`);
    }
    const opDescription = op.description;
    if (typeof opDescription !== 'string' || !/[.!?]$/.test(opDescription.trim()))
      out.push(`${where}: description must be a sentence ending in . ! or ?`);
    else if (opDescription.trim() === String(summary ?? '').trim())
      out.push(`${where}: description must differ from summary`);
    if (
      op['x-ms-visibility'] !== undefined &&
      !['important', 'advanced', 'internal'].includes(op['x-ms-visibility'] as string)
    ) {
      out.push(`${where}: x-ms-visibility must be important, advanced or internal`);
    }

    const responses = (op.responses ?? {}) as Record<string, Obj>;
    const codes = Object.keys(responses);
    if (!codes.some((c) => /^2\d\d$/.test(c))) out.push(`${where}: no 2xx response`);
    const withSchema = codes.filter((c) => isObj(responses[c]) && responses[c]!.schema !== undefined);
    if (withSchema.length !== 1)
      out.push(
        `${where}: exactly one response must carry a schema (found ${withSchema.join(', ') || 'none'})`,
      );
    if (withSchema.some((c) => c !== '200' && c !== '201'))
      out.push(`${where}: only 200 or 201 may carry a schema (found ${withSchema.join(', ')})`);
    if (responses.default?.schema !== undefined) out.push(`${where}: the default response has a schema`);
    for (const c of codes)
      if (typeof responses[c]?.description !== 'string' || !responses[c]!.description)
        out.push(`${where}: response ${c} has no description`);
    const schemaCode = withSchema[0];
    if (schemaCode) {
      const root = deref(doc, responses[schemaCode]!.schema);
      if (Object.keys(root).length === 0 || (root.type === 'object' && !isObj(root.properties)))
        out.push(`${where}: response ${schemaCode} has an empty schema`);
      const size = countSchemas(doc, responses[schemaCode]!.schema);
      if (size.loop) out.push(`${where}: $ref loop ${size.loop}`);
      if (size.count > MAX_SCHEMAS_PER_OPERATION) out.push(`${where}: ${size.count} schemas in the response`);
    }
    if (responses['202']) {
      const headers = (responses['202'].headers ?? {}) as Record<string, Obj>;
      const find = (n: string) => Object.entries(headers).find(([k]) => k.toLowerCase() === n)?.[1];
      if (find('location')?.type !== 'string')
        out.push(`${where}: 202 must declare a Location header of type string`);
      if (find('retry-after')?.type !== 'integer')
        out.push(`${where}: 202 must declare a Retry-After header of type integer`);
    }

    const params = parametersOf(doc, op, pathItem);
    const bodies = params.filter((p) => p.in === 'body');
    if (bodies.length > 1) out.push(`${where}: more than one body parameter`);
    if (bodies.length && params.some((p) => p.in === 'formData'))
      out.push(`${where}: body and formData together`);
    if (bodies.length && method === 'get') out.push(`${where}: a GET with a body`);
    const pathVars = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const v of pathVars)
      if (!params.some((p) => p.in === 'path' && p.name === v && p.required === true))
        out.push(`${where}: {${v}} has no required path parameter`);
    for (const p of params.filter((x) => x.in === 'path'))
      if (!pathVars.includes(p.name as string))
        out.push(`${where}: path parameter ${String(p.name)} is not in the path`);
    for (const p of params) {
      const pw = `${where} parameter ${String(p.name)}`;
      if (p.name === 'connectionId') out.push(`${pw}: the name connectionId is reserved`);
      if (p.in !== 'body') {
        if (typeof p['x-ms-summary'] !== 'string' || !p['x-ms-summary']) out.push(`${pw}: no x-ms-summary`);
        else if (p['x-ms-summary'].length > 80) out.push(`${pw}: x-ms-summary longer than 80 characters`);
        if (typeof p.description !== 'string' || !p.description) out.push(`${pw}: no description`);
        if (typeof p.format === 'string' && !FORMATS.has(p.format))
          out.push(`${pw}: format ${p.format} is not accepted`);
        enumValueRules(p, pw, out);
      }
      if (p.in === 'path' && p['x-ms-url-encoding'] !== 'single')
        out.push(`${pw}: path parameters need "x-ms-url-encoding": "single"`);
      if (p.in !== 'path' && p['x-ms-url-encoding'] !== undefined)
        out.push(`${pw}: only path parameters may carry x-ms-url-encoding`);
      if (
        p['x-ms-visibility'] !== undefined &&
        !['important', 'advanced', 'internal'].includes(p['x-ms-visibility'] as string)
      ) {
        out.push(`${pw}: x-ms-visibility must be important, advanced or internal`);
      }
      if (p['x-ms-visibility'] === 'internal' && p.required === true && p.default === undefined)
        out.push(`${pw}: internal and required needs a default`);
      if (p['x-ms-visibility'] === 'internal' && p.required !== true && p.default !== undefined) {
        out.push(
          `${pw}: internal, optional and with a default is dropped from requests; make it required or drop the default`,
        );
      }
      for (const kind of ['x-ms-dynamic-values', 'x-ms-dynamic-list'])
        dynamicValuesRules(doc, p[kind], params, pw, out, kind);
      if (p.in === 'body') {
        const size = countSchemas(doc, p.schema);
        if (size.loop) out.push(`${pw}: $ref loop ${size.loop}`);
        if (size.count > MAX_SCHEMAS_PER_BODY) out.push(`${pw}: ${size.count} schemas in the body`);
        walkSchemas(p.schema, pw, (s, w) => {
          schemaRules(doc, s, w, out);
          for (const kind of ['x-ms-dynamic-values', 'x-ms-dynamic-list'])
            dynamicValuesRules(doc, s[kind], params, w, out, kind);
        });
      }
    }
  }
  if (count > MAX_OPERATIONS) out.push(`${count} operations; at most ${MAX_OPERATIONS}`);
  if (count === 0) out.push('no operations');
  for (const [name, schema] of Object.entries((doc.definitions ?? {}) as Record<string, Obj>)) {
    walkSchemas(schema, `definitions.${name}`, (s, w) => schemaRules(doc, s, w, out));
    const size = countSchemas(doc, schema);
    if (size.loop) out.push(`definitions.${name}: $ref loop ${size.loop}`);
  }
  return [...new Set(out)];
}

/** apiProperties.json rules, and their agreement with the definition's securityDefinitions. */
export function checkProperties(
  props: Obj,
  doc: Obj | undefined,
  expect: { resourceUri?: string } = {},
): string[] {
  const out: string[] = [...validatePropertiesSchema(props)];
  const p = (props.properties ?? {}) as Obj;
  const color = p.iconBrandColor;
  if (typeof color !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(color))
    out.push('iconBrandColor must be #RRGGBB');
  else if (['#007ee5', '#ffffff'].includes(color.toLowerCase()))
    out.push(`iconBrandColor ${color} is reserved`);
  if ('stackOwner' in p) out.push('stackOwner breaks paconn create/update; keep it out of the deploy copy');
  const params = (p.connectionParameters ?? {}) as Record<string, Obj>;
  for (const [name, prm] of Object.entries(params)) {
    if (prm.type === 'oauthSetting') {
      if (name !== 'token') out.push(`the OAuth connection parameter must be named token (found ${name})`);
      const o = (prm.oAuthSettings ?? {}) as Obj;
      const custom = (o.customParameters ?? {}) as Record<string, Obj>;
      if (o.identityProvider === 'aad') {
        if (typeof custom.resourceUri?.value !== 'string' || !custom.resourceUri.value)
          out.push('aad OAuth needs customParameters.resourceUri.value');
        else if (expect.resourceUri !== undefined && custom.resourceUri.value !== expect.resourceUri) {
          out.push(`resourceUri is ${custom.resourceUri.value}, expected ${expect.resourceUri}`);
        }
      }
      if (o.clientSecret) out.push('a client secret is committed; pass it at deploy time');
    }
    if (prm.type === 'securestring' && name !== 'api_key')
      out.push(`the API key connection parameter should be named api_key (found ${name})`);
    if (name === 'api_key') {
      if (prm.type !== 'securestring') out.push('api_key must be type securestring');
      const c = ((prm.uiDefinition as Obj | undefined)?.constraints ?? {}) as Obj;
      if (c.clearText !== false) out.push('api_key must have constraints.clearText false');
    }
    const c = ((prm.uiDefinition as Obj | undefined)?.constraints ?? {}) as Obj;
    for (const k of ['required', 'hidden'])
      if (k in c && c[k] !== 'true' && c[k] !== 'false')
        out.push(`${name}: constraints.${k} must be the string "true" or "false"`);
  }
  const text = JSON.stringify(props);
  for (const m of text.matchAll(/@connectionParameters\('([^']+)'/g))
    if (!(m[1]! in params)) out.push(`@connectionParameters('${m[1]}') names no connection parameter`);
  if (doc) {
    const ids = new Set([...operations(doc)].map((o) => o.op.operationId));
    for (const t of (p.policyTemplateInstances ?? []) as Obj[]) {
      const names = ((t.parameters as Obj | undefined)?.['x-ms-apimTemplate-operationName'] ??
        []) as string[];
      for (const n of names)
        if (!ids.has(n)) out.push(`policy ${String(t.templateId)} names unknown operation ${n}`);
    }
    for (const n of (p.scriptOperations ?? []) as string[])
      if (!ids.has(n)) out.push(`scriptOperations names unknown operation ${n}`);
    const defs = Object.values((doc.securityDefinitions ?? {}) as Record<string, Obj>);
    const types = new Set(defs.map((d) => d.type));
    const hasOauth = Object.entries(params).some(([n, x]) => n === 'token' && x.type === 'oauthSetting');
    const hasKey = Object.entries(params).some(([n, x]) => n === 'api_key' && x.type === 'securestring');
    if (types.has('oauth2') !== hasOauth)
      out.push('swagger oauth2 and the token oauthSetting parameter must come together');
    if (types.has('apiKey') !== hasKey)
      out.push('swagger apiKey and the api_key securestring parameter must come together');
    if (defs.length === 0 && Object.keys(params).length > 0)
      out.push('connection parameters exist but the swagger declares no securityDefinitions');
    const security = (doc.security ?? []) as Obj[];
    for (const req of security) {
      for (const [name, scopes] of Object.entries(req)) {
        if (!(name in ((doc.securityDefinitions ?? {}) as Obj)))
          out.push(`security names unknown scheme ${name}`);
        if (!Array.isArray(scopes) || scopes.length !== 0)
          out.push(`security requirement ${name} must be an empty array`);
      }
    }
  }
  return [...new Set(out)];
}

export function checkSettings(settings: Obj, dir: string): string[] {
  const out = [...validateSettingsSchema(settings)];
  for (const k of ['apiDefinition', 'apiProperties', 'icon', 'script']) {
    if (typeof settings[k] === 'string' && !existsSync(join(dir, settings[k] as string)))
      out.push(`settings.${k} points at ${String(settings[k])}, which does not exist`);
  }
  return out;
}

/** Width, height and the top-left pixel of a PNG (enough to check the icon's size and background). */
export function readPngBasics(buf: Buffer): { width: number; height: number; topLeft?: string } {
  if (buf.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  const colourType = buf[25];
  const idat: Buffer[] = [];
  for (let at = 8; at < buf.length; ) {
    const length = buf.readUInt32BE(at);
    const type = buf.subarray(at + 4, at + 8).toString('ascii');
    if (type === 'IDAT') idat.push(buf.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  if (colourType !== 2 && colourType !== 6) return { width, height };
  // Whatever the row filter, the first pixel of the first row is stored as is.
  const raw = inflateSync(Buffer.concat(idat));
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return { width, height, topLeft: `#${hex(raw[1]!)}${hex(raw[2]!)}${hex(raw[3]!)}` };
}

export function checkIcon(buf: Buffer, brandColor: string): string[] {
  const out: string[] = [];
  try {
    const { width, height, topLeft } = readPngBasics(buf);
    if (width < 200 || width > 260 || height < 200 || height > 260)
      out.push(`icon is ${width}×${height}; it should be about 230×230`);
    if (!topLeft) out.push('icon background could not be read (use an RGB or RGBA PNG)');
    else {
      if (['#ffffff', '#007ee5'].includes(topLeft)) out.push(`icon background ${topLeft} is reserved`);
      if (topLeft.toLowerCase() !== brandColor.toLowerCase())
        out.push(`icon background ${topLeft} differs from iconBrandColor ${brandColor}`);
    }
  } catch (err) {
    out.push(`icon: ${(err as Error).message}`);
  }
  return out;
}

function readJsonFile(file: string, label: string, out: string[]): Obj | undefined {
  if (!existsSync(file)) {
    out.push(`${label}: missing`);
    return undefined;
  }
  const buf = readFileSync(file);
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) out.push(`${label}: starts with a UTF-8 BOM`);
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    out.push(`${label}: not valid JSON (${(err as Error).message})`);
    return undefined;
  }
}

export interface PackageFiles {
  definition: string;
  properties: string;
  settings?: string;
  icon: string;
  readme?: string;
}

/** Every rule on a whole package: files, encodings, definition, properties, settings, icon. */
export function checkPackage(
  files: PackageFiles,
  expect: { host?: string; resourceUri?: string } = {},
): string[] {
  const out: string[] = [];
  const doc = readJsonFile(files.definition, 'definition', out);
  if (doc)
    out.push(...checkDefinition(doc, { host: expect.host, sizeBytes: statSync(files.definition).size }));
  const props = readJsonFile(files.properties, 'apiProperties', out);
  if (props) out.push(...checkProperties(props, doc, { resourceUri: expect.resourceUri }));
  if (files.settings) {
    const settings = readJsonFile(files.settings, 'settings', out);
    if (settings) out.push(...checkSettings(settings, join(files.settings, '..')));
  }
  if (!existsSync(files.icon)) out.push('icon.png: missing');
  else
    out.push(
      ...checkIcon(readFileSync(files.icon), String(((props?.properties ?? {}) as Obj).iconBrandColor)),
    );
  if (files.readme !== undefined && !existsSync(files.readme)) out.push(`${files.readme}: missing`);
  return out;
}
