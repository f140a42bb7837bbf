// Checks real relay answers against both committed documents:
// - the full contract (openapi.json, OpenAPI 3.1): the status is declared for the operation, the
//   body matches that status's schema (JSON Schema 2020-12), every required header is there and
//   every header the relay sends that a client acts on (Location, Retry-After, WWW-Authenticate,
//   x-correlation-id) is declared with a value of the declared type;
// - the connector definition (apiDefinition.swagger.json, OpenAPI 2.0): the status is declared,
//   and a 2xx body matches the schema the definition gives it, read the way OpenAPI 2.0 tools read
//   it: draft-04, `x-nullable` honoured, siblings of `$ref` ignored, and no undeclared properties.
// Each problem is one readable line; an empty list means the answer fits both documents.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

type Json = Record<string, unknown>;
type Validate = ((data: unknown) => boolean) & {
  errors?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }> | null;
};
type AjvLike = { compile(schema: unknown): Validate; addSchema(schema: unknown, key?: string): unknown };
type AjvConstructor = new (options: Record<string, unknown>) => AjvLike;

// The ajv packages are CommonJS with a `default` export; require keeps the types simple.
const require = createRequire(import.meta.url);
const Ajv2020 = (require('ajv/dist/2020') as { default: AjvConstructor }).default;
const Ajv04 = (require('ajv-draft-04') as { default: AjvConstructor }).default;
const addFormats = (require('ajv-formats') as { default: (ajv: AjvLike) => void }).default;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const readJson = (name: string) => JSON.parse(readFileSync(fileURLToPath(new URL(`../../../${name}`, import.meta.url)), 'utf8')) as Json;

/** Headers a client acts on: when the relay sends one, the document must declare it. */
const MEANINGFUL_HEADERS = ['location', 'retry-after', 'www-authenticate', 'x-correlation-id'];

export interface Answer {
  method: string;
  /** The request path and query, relative to the relay's base (as sent). */
  path: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

interface Operation {
  operationId: string;
  pattern: RegExp;
  method: string;
  template: string;
}

function operationsIn(doc: Json): Operation[] {
  const out: Operation[] = [];
  for (const [template, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    for (const [method, op] of Object.entries(item)) {
      if (isObj(op) && typeof op.operationId === 'string') out.push({ operationId: op.operationId, pattern, method, template });
    }
  }
  return out;
}

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** An OpenAPI 2.0 schema as draft-04 JSON Schema, the way OpenAPI 2.0 tools read it. */
export function asOpenApi2Tools(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(asOpenApi2Tools);
  if (!isObj(node)) return node;
  // Beside a $ref, everything else (x-nullable included) is ignored.
  if (typeof node.$ref === 'string') return { $ref: node.$ref };
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && isObj(value))
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asOpenApi2Tools(v)]));
    else if (key === 'enum' || key === 'default' || key === 'example') out[key] = value;
    else if (!key.startsWith('x-')) out[key] = asOpenApi2Tools(value);
  }
  if (node['x-nullable'] === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  // The designer offers exactly the declared properties: an undeclared one is drift.
  if (isObj(out.properties) && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

export class ContractChecker {
  readonly contract: Json;
  readonly definition: Json;
  private readonly contractOps: Operation[];
  private readonly definitionOps: Operation[];
  private readonly ajv2020: AjvLike;
  private readonly ajv04: AjvLike;
  private readonly cache = new Map<string, Validate>();

  /** The committed documents, unless others are given (tests of the checker itself). */
  constructor(docs: { contract?: Json; definition?: Json } = {}) {
    this.contract = docs.contract ?? readJson('openapi.json');
    this.definition = docs.definition ?? readJson('apiDefinition.swagger.json');
    this.contractOps = operationsIn(this.contract);
    this.definitionOps = operationsIn(this.definition);
    this.ajv2020 = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv2020);
    this.ajv2020.addSchema({ ...this.contract, $id: 'https://contract.test/openapi.json' });
    this.ajv04 = new Ajv04({ strict: false, allErrors: true });
    addFormats(this.ajv04);
    this.ajv04.addSchema({ id: 'https://contract.test/definition.json', definitions: asOpenApi2Tools(this.definition.definitions) });
  }

  /** The operation a request reached, by method and path template. */
  operationOf(method: string, path: string, doc: 'contract' | 'definition' = 'contract'): Operation | undefined {
    const bare = path.split('?')[0]!;
    const basePath = doc === 'definition' ? String(this.definition.basePath ?? '/').replace(/\/$/, '') : '';
    return (doc === 'contract' ? this.contractOps : this.definitionOps).find(
      (o) => o.method === method.toLowerCase() && o.pattern.test(bare.slice(basePath.length)),
    );
  }

  private validator(key: string, build: () => Validate): Validate {
    let v = this.cache.get(key);
    if (!v) {
      v = build();
      this.cache.set(key, v);
    }
    return v;
  }

  private schemaErrors(label: string, validate: Validate, data: unknown): string[] {
    if (validate(data)) return [];
    return (validate.errors ?? []).map(
      (e) => `${label}: ${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${String(e.params.additionalProperty)})` : ''}`,
    );
  }

  /** Every way this answer departs from the full contract. */
  checkContract(a: Answer): string[] {
    const op = this.operationOf(a.method, a.path);
    const where = `${a.method} ${a.path} → ${a.status}`;
    if (!op) return [`${where}: no operation in openapi.json`];
    const responses = ((this.contract.paths as Json)[op.template] as Json)[op.method] as Json;
    const response = (responses.responses as Json)[String(a.status)] as Json | undefined;
    if (!response) return [`${where}: ${op.operationId} does not declare ${a.status} in openapi.json`];
    const out: string[] = [];
    const declared = (response.headers ?? {}) as Record<string, Json>;
    const declaredLower = new Map(Object.entries(declared).map(([k, v]) => [k.toLowerCase(), v]));
    for (const [name, h] of declaredLower) {
      if (h.required === true && a.headers[name] === undefined) out.push(`${where}: required header ${name} missing`);
    }
    for (const name of MEANINGFUL_HEADERS) {
      const value = a.headers[name];
      if (value === undefined) continue;
      const h = declaredLower.get(name);
      if (!h) {
        out.push(`${where}: header ${name} is sent but not declared`);
        continue;
      }
      const schema = (h.schema ?? {}) as Json;
      const typed = schema.type === 'integer' ? (/^-?\d+$/.test(value) ? Number(value) : value) : value;
      const v = this.validator(`h ${op.template} ${op.method} ${a.status} ${name}`, () => this.ajv2020.compile(schema));
      out.push(...this.schemaErrors(`${where}: header ${name}=${value}`, v, typed));
    }
    const content = response.content as Json | undefined;
    if (content) {
      if (!(a.headers['content-type'] ?? '').includes('application/json')) out.push(`${where}: content-type ${a.headers['content-type']} is not JSON`);
      const ref = `https://contract.test/openapi.json#/${pointer('paths', op.template, op.method, 'responses', String(a.status), 'content', 'application/json', 'schema')}`;
      const v = this.validator(ref, () => this.ajv2020.compile({ $ref: ref }));
      out.push(...this.schemaErrors(`${where}: body`, v, a.body));
    } else if (a.body !== undefined && a.body !== '') out.push(`${where}: a body where openapi.json declares none`);
    return out;
  }

  /** Every way this answer departs from the connector definition. */
  checkDefinition(a: Answer): string[] {
    const op = this.operationOf(a.method, a.path, 'definition') ?? this.operationOf(a.method, a.path, 'contract');
    const where = `${a.method} ${a.path} → ${a.status}`;
    if (!op) return [`${where}: no operation in apiDefinition.swagger.json`];
    const operation = ((this.definition.paths as Json)[op.template] as Json | undefined)?.[op.method] as Json | undefined;
    if (!operation) return [`${where}: ${op.operationId} is not in apiDefinition.swagger.json`];
    const response = (operation.responses as Json)[String(a.status)] as Json | undefined;
    if (!response) return [`${where}: ${op.operationId} does not declare ${a.status} in apiDefinition.swagger.json`];
    const out: string[] = [];
    if (a.headers['retry-after'] !== undefined) {
      const h = Object.entries((response.headers ?? {}) as Json).find(([k]) => k.toLowerCase() === 'retry-after');
      if (!h) out.push(`${where}: Retry-After is sent but apiDefinition.swagger.json does not declare it`);
    }
    if (a.status >= 200 && a.status < 300 && isObj(response.schema)) {
      const key = `d ${op.template} ${op.method} ${a.status}`;
      const schema = asOpenApi2Tools(response.schema) as Json;
      const v = this.validator(key, () =>
        this.ajv04.compile(
          typeof schema.$ref === 'string' ? { $ref: `https://contract.test/definition.json${schema.$ref}` } : schema,
        ),
      );
      out.push(...this.schemaErrors(`${where}: body (draft-04)`, v, a.body));
    }
    return out;
  }

  check(a: Answer): string[] {
    return [...this.checkContract(a), ...this.checkDefinition(a)];
  }
}
