// Longer than most files: one recursive translation whose cases depend on each other; split up,
// a reader would follow one walk over a schema through several files.
// zod → OpenAPI 2.0 schema objects. zod writes draft-4 JSON Schema; the connector platform reads
// OpenAPI 2.0, which has no anyOf/oneOf, no type arrays, no `nullable` and no `const`, and whose
// schema objects reject unknown keys. This module bridges the two: nullability becomes
// `x-nullable`, literal unions become enums, named schemas (`.meta({ id })`) become shared
// definitions, and anything 2.0 cannot say is dropped with a warning instead of producing a
// definition the platform refuses on import.
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';

export type SwaggerSchema = Record<string, unknown>;

/** Keys an OpenAPI 2.0 schema object may carry in a connector definition (the connector schema's list). */
const SCHEMA_KEYS = new Set([
  '$ref',
  'format',
  'title',
  'description',
  'default',
  'multipleOf',
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
  'maxProperties',
  'minProperties',
  'required',
  'enum',
  'additionalProperties',
  'type',
  'items',
  'allOf',
  'properties',
  'discriminator',
  'readOnly',
  'example',
  'x-ms-dynamic-list',
  'x-ms-dynamic-values',
  'x-ms-enum-values',
  'x-ms-localizeDefaultValue',
  'x-ms-summary',
  'x-ms-test-value',
  'x-ms-visibility',
]);

/** Formats the connector platform knows; zod's others (regex, ipv4, duration…) are dropped. */
export const SWAGGER_FORMATS = new Set([
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

// zod adds its own validation regex next to these formats; in a connector definition it is only noise.
const FORMATS_WITH_IMPLIED_PATTERN = new Set(['uuid', 'date-time', 'date', 'email', 'uri']);

export type SchemaDirection = 'input' | 'output';

/** Shared definitions collected while a document is generated, plus what had to be simplified. */
export class DefinitionRegistry {
  readonly definitions = new Map<string, SwaggerSchema>();
  readonly warnings: string[] = [];

  /** Stores `schema` under `name`, or under a suffixed name when `name` already holds something else. */
  add(name: string, schema: SwaggerSchema, direction: SchemaDirection): string {
    const candidates = [name, direction === 'input' ? `${name}Input` : `${name}Output`];
    for (let i = 2; i < 100; i++) candidates.push(`${name}${i}`);
    for (const candidate of candidates) {
      const existing = this.definitions.get(candidate);
      if (!existing) {
        this.definitions.set(candidate, schema);
        return candidate;
      }
      if (isDeepStrictEqual(existing, schema)) return candidate;
    }
    throw new Error(`too many different schemas named ${name}`);
  }

  warn(where: string, message: string) {
    this.warnings.push(`${where}: ${message}`);
  }
}

export function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

/** A zod schema (or a plain JSON schema) as an OpenAPI 2.0 schema; named parts go to the registry. */
export function toSwaggerSchema(
  source: unknown,
  direction: SchemaDirection,
  registry: DefinitionRegistry,
  where: string,
): SwaggerSchema {
  let json: SwaggerSchema;
  try {
    json = isZodSchema(source)
      ? (z.toJSONSchema(source, { target: 'draft-4', io: direction, unrepresentable: 'any' }) as SwaggerSchema)
      : structuredClone((source ?? {}) as SwaggerSchema);
  } catch (err) {
    // One odd schema must not take the whole definition (and /docs) down; the warning names it.
    registry.warn(where, `could not be converted (${(err as Error).message}); shown as an untyped value`);
    return {};
  }
  const localDefinitions = (json.definitions ?? json.$defs ?? {}) as Record<string, SwaggerSchema>;
  delete json.definitions;
  delete json.$defs;

  // Register the named parts first, so references can be renamed when a name is already taken by a
  // different shape (the input and output forms of one zod schema differ, for instance).
  const renames = new Map<string, string>();
  for (const [name, definition] of Object.entries(localDefinitions)) {
    const converted = convertNode(definition, registry, `${where} definition ${name}`);
    const stored = registry.add(name, converted, direction);
    if (stored !== name) renames.set(`#/definitions/${name}`, `#/definitions/${stored}`);
  }
  const converted = convertNode(json, registry, where);
  if (renames.size > 0) {
    rewriteRefs(converted, renames);
    for (const name of new Set(renames.values())) {
      const key = name.slice('#/definitions/'.length);
      const def = registry.definitions.get(key);
      if (def) rewriteRefs(def, renames);
    }
  }
  return converted;
}

function rewriteRefs(node: unknown, renames: Map<string, string>) {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) rewriteRefs(item, renames);
    return;
  }
  const obj = node as SwaggerSchema;
  if (typeof obj.$ref === 'string' && renames.has(obj.$ref)) obj.$ref = renames.get(obj.$ref);
  for (const value of Object.values(obj)) rewriteRefs(value, renames);
}

function isNullSchema(node: unknown): boolean {
  if (!node || typeof node !== 'object') return false;
  const n = node as SwaggerSchema;
  return n.type === 'null' || (Array.isArray(n.enum) && n.enum.length === 1 && n.enum[0] === null);
}

/** Converts one JSON Schema node (and its children) to an OpenAPI 2.0 schema object. */
export function convertNode(
  input: SwaggerSchema,
  registry: DefinitionRegistry,
  where: string,
): SwaggerSchema {
  let node: SwaggerSchema = { ...input };
  let nullable = node.nullable === true || node['x-nullable'] === true;
  delete node.nullable;

  if (node.const !== undefined) {
    node.enum = [node.const];
    delete node.const;
  }
  if (Array.isArray(node.examples) && node.example === undefined && node.examples.length > 0) {
    node.example = node.examples[0];
  }

  if (Array.isArray(node.type)) {
    const types = (node.type as string[]).filter((t) => t !== 'null');
    if (types.length < node.type.length) nullable = true;
    if (types.length === 1) node.type = types[0];
    else {
      delete node.type;
      registry.warn(
        where,
        `a value of several types (${types.join(', ')}) has no OpenAPI 2.0 form; it is left untyped`,
      );
    }
  }

  for (const combinator of ['anyOf', 'oneOf'] as const) {
    const branches = node[combinator];
    if (!Array.isArray(branches)) continue;
    delete node[combinator];
    const nonNull = (branches as SwaggerSchema[]).filter((b) => !isNullSchema(b));
    if (nonNull.length < branches.length) nullable = true;
    node = { ...mergeUnion(nonNull, registry, where), ...node };
  }

  if (Array.isArray(node.allOf)) {
    const parts = node.allOf as SwaggerSchema[];
    delete node.allOf;
    node = { ...mergeAll(parts, registry, where), ...node };
  }

  if (node.enum && Array.isArray(node.enum) && node.enum.includes(null)) {
    node.enum = (node.enum as unknown[]).filter((v) => v !== null);
    nullable = true;
  }

  if (node.properties && typeof node.properties === 'object') {
    const properties: Record<string, SwaggerSchema> = {};
    for (const [name, child] of Object.entries(node.properties as Record<string, SwaggerSchema>)) {
      properties[name] = convertNode(child, registry, `${where}.${name}`);
    }
    node.properties = properties;
    if (node.type === undefined) node.type = 'object';
  }
  if (node.items && typeof node.items === 'object') {
    node.items = Array.isArray(node.items)
      ? (node.items as SwaggerSchema[]).map((item, i) => convertNode(item, registry, `${where}[${i}]`))
      : convertNode(node.items as SwaggerSchema, registry, `${where}[]`);
  }
  if (node.additionalProperties === false) delete node.additionalProperties;
  else if (node.additionalProperties && typeof node.additionalProperties === 'object') {
    node.additionalProperties = convertNode(
      node.additionalProperties as SwaggerSchema,
      registry,
      `${where}{}`,
    );
  }
  if (node.patternProperties && node.additionalProperties === undefined) node.additionalProperties = {};

  if (typeof node.format === 'string') {
    if (!SWAGGER_FORMATS.has(node.format)) delete node.format;
    else if (FORMATS_WITH_IMPLIED_PATTERN.has(node.format)) delete node.pattern;
  }
  // zod's z.int() spells "safe integer" as ±(2^53 − 1); it says nothing a flow maker needs.
  if (node.minimum === Number.MIN_SAFE_INTEGER) delete node.minimum;
  if (node.maximum === Number.MAX_SAFE_INTEGER) delete node.maximum;

  if (Array.isArray(node.required)) {
    if (node.required.length === 0 || node.type !== 'object') delete node.required;
  }

  const out: SwaggerSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (SCHEMA_KEYS.has(key)) out[key] = value;
    else if (key.startsWith('x-') && !key.startsWith('x-ms-')) out[key] = value;
    else if (key.startsWith('x-ms-'))
      registry.warn(where, `${key} is not allowed on a schema in a connector definition; dropped`);
  }
  if (out.$ref !== undefined) {
    // Beside a $ref, only annotations mean anything.
    for (const key of Object.keys(out)) {
      if (!['$ref', 'description', 'title', 'x-ms-summary', 'x-ms-visibility', 'x-nullable'].includes(key))
        delete out[key];
    }
  }
  if (nullable) out['x-nullable'] = true;
  return out;
}

/** One schema for a union: the single branch, a merged enum, or merged object properties. */
function mergeUnion(branches: SwaggerSchema[], registry: DefinitionRegistry, where: string): SwaggerSchema {
  if (branches.length === 0) return {};
  if (branches.length === 1) return convertNode(branches[0]!, registry, where);
  const converted = branches.map((b) => convertNode(b, registry, where));
  if (converted.every((b) => Array.isArray(b.enum) && b.type === converted[0]!.type)) {
    const values = [...new Set(converted.flatMap((b) => b.enum as unknown[]))];
    const labels = converted.flatMap((b) => (b['x-ms-enum-values'] as unknown[] | undefined) ?? []);
    return {
      type: converted[0]!.type,
      enum: values,
      ...(labels.length ? { 'x-ms-enum-values': labels } : {}),
    };
  }
  if (converted.every((b) => b.type === 'object' && b.properties)) {
    registry.warn(where, 'a union of objects is shown as one object with every property');
    return mergeObjects(converted, 'intersection');
  }
  registry.warn(where, 'a union of different types has no OpenAPI 2.0 form; it is left untyped');
  return {};
}

function mergeAll(parts: SwaggerSchema[], registry: DefinitionRegistry, where: string): SwaggerSchema {
  const converted = parts.map((p) => convertNode(p, registry, where));
  if (converted.length === 1) return converted[0]!;
  if (converted.every((b) => b.type === 'object' || b.properties)) return mergeObjects(converted, 'union');
  registry.warn(where, 'an intersection of non-objects is shown as its first part');
  return converted[0] ?? {};
}

function mergeObjects(objects: SwaggerSchema[], required: 'union' | 'intersection'): SwaggerSchema {
  const properties: Record<string, SwaggerSchema> = {};
  for (const o of objects) Object.assign(properties, o.properties ?? {});
  const lists = objects.map((o) => (o.required as string[] | undefined) ?? []);
  const names =
    required === 'union'
      ? [...new Set(lists.flat())]
      : (lists[0] ?? []).filter((n) => lists.every((list) => list.includes(n)));
  return { type: 'object', properties, ...(names.length ? { required: names } : {}) };
}

/** Title Case label from a property name, used when a field has no `x-ms-summary` of its own. */
export function labelFromName(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  return words
    .map((w) => (w.length <= 2 && w === w.toUpperCase() ? w : w[0]!.toUpperCase() + w.slice(1)))
    .join(' ');
}

/**
 * Replaces every `{$ref, x-nullable: true}` with an inline copy of the referenced definition plus
 * `x-nullable: true`. OpenAPI 2.0 tools ignore the siblings of `$ref`, so a nullable `$ref` reads
 * as "never null" and every `null` the relay sends breaks it; the platform ignores or refuses
 * `allOf`, so inlining is the form both honour.
 */
export function inlineNullableRefs(node: unknown, definitions: Record<string, SwaggerSchema>): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) inlineNullableRefs(item, definitions);
    return;
  }
  const obj = node as SwaggerSchema;
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'enum' || key === 'default' || key === 'example') continue;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const child = value as SwaggerSchema;
      if (typeof child.$ref === 'string' && child['x-nullable'] === true) {
        const target = definitions[child.$ref.replace('#/definitions/', '')];
        if (target) {
          const { $ref: _ref, ...annotations } = child;
          obj[key] = { ...structuredClone(target), ...annotations, 'x-nullable': true };
        }
      }
    }
    inlineNullableRefs(obj[key], definitions);
  }
}

/** Drops definitions nothing refers to any more (a nullable one may now live only inline). */
export function dropUnusedDefinitions(doc: { paths?: unknown; definitions?: unknown }): void {
  const definitions = (doc.definitions ?? {}) as Record<string, SwaggerSchema>;
  const used = new Set<string>();
  const visit = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    const obj = node as SwaggerSchema;
    if (typeof obj.$ref === 'string') {
      const name = obj.$ref.replace('#/definitions/', '');
      if (!used.has(name)) {
        used.add(name);
        visit(definitions[name]);
      }
    }
    for (const value of Object.values(obj)) visit(value);
  };
  visit(doc.paths);
  for (const name of Object.keys(definitions)) if (!used.has(name)) delete definitions[name];
}
