// Requests built from the committed connector definition (apiDefinition.swagger.json): for each
// operation, fast-check arbitraries that mix valid values with hostile ones — wrong types, huge
// strings, unicode, __proto__/constructor keys, invalid GUIDs, absurd numbers, malformed JSON and
// wrong content types.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';

export interface SwaggerParameter {
  in: 'path' | 'query' | 'body' | 'header';
  name: string;
  type?: string;
  required?: boolean;
  enum?: string[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  schema?: SwaggerSchema;
}

export interface SwaggerSchema {
  type?: string;
  properties?: Record<string, SwaggerSchema>;
  items?: SwaggerSchema;
  required?: string[];
  enum?: string[];
  maxLength?: number;
  maxItems?: number;
}

export interface Operation {
  operationId: string;
  method: string;
  path: string;
  parameters: SwaggerParameter[];
  responses: string[];
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** What kind of input this is, for the failure message. */
  shape: string;
}

export function loadOperations(file = new URL('../../apiDefinition.swagger.json', import.meta.url)): Operation[] {
  const def = JSON.parse(readFileSync(file, 'utf8')) as {
    paths: Record<string, Record<string, { operationId: string; parameters?: SwaggerParameter[]; responses: Record<string, unknown> }>>;
  };
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(def.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (method === 'parameters') continue;
      ops.push({ operationId: op.operationId, method: method.toUpperCase(), path, parameters: op.parameters ?? [], responses: Object.keys(op.responses) });
    }
  }
  return ops;
}

// Values that are valid in the demo catalog, so some requests get past validation to the services.
const VALID_BY_NAME: Record<string, string[]> = {
  environmentId: ['3f2e1d0c-9b8a-4776-a554-433221100ffe', 'Default-7c3d9f2a-0b1e-4c5d-8e6f-9a0b1c2d3e4f', '8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d'],
  uniqueName: ['msdyn_FieldInspectionsAnchor', 'MicrosoftFormsPro', 'msdyn_SalesInsightsAddOn', 'NoSuchPackage'],
  operationId: ['0b0c3f5e-2f1a-4b7e-9a51-3c2d1e0f9a8b'],
  tenant: ['2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3', '*', 'fabrikam.onmicrosoft.com', 'b1c2d3e4-f5a6-4b7c-9d8e-0f1a2b3c4d5e'],
  lcid: ['1033', '1036'],
  from: ['2026-01-01T00:00:00Z'],
  to: ['2030-01-01T00:00:00Z'],
};

const HOSTILE_STRINGS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-1',
  '1e309',
  '9007199254740993',
  '-0',
  '0x10',
  '00000000-0000-0000-0000-00000000000g',
  '{00000000-0000-0000-0000-000000000000}',
  '00000000000000000000000000000000',
  'Default-',
  '../../etc/passwd',
  '%00',
  '\u0000',
  '\ud800',
  '\u202e\u0041',
  '👩‍👩‍👧‍👦',
  'Ünïcödé-名前',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  ' ',
  '',
];

const unicodeString = fc.string({ unit: 'binary', maxLength: 40 });
const hugeString = fc.integer({ min: 1000, max: 4000 }).map((n) => 'x'.repeat(n));
const hugeUnicode = fc.integer({ min: 200, max: 1000 }).map((n) => '名'.repeat(n));
const absurdNumber = fc.oneof(
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -1, 0.5, -0),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** A string for a path or query slot: valid for that name, or hostile. */
function stringFor(name: string, p?: { enum?: string[] }): fc.Arbitrary<string> {
  const valid = [...(VALID_BY_NAME[name] ?? []), ...(p?.enum ?? [])];
  return fc.oneof(
    { weight: 3, arbitrary: valid.length ? fc.constantFrom(...valid) : fc.string({ minLength: 1, maxLength: 12 }) },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 1, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
    { weight: 1, arbitrary: unicodeString },
    { weight: 1, arbitrary: absurdNumber.map(String) },
    { weight: 1, arbitrary: fc.oneof(hugeString, hugeUnicode) },
  );
}

/** Any JSON value of the wrong kind for a schema slot. */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1e308, '', 'true', [], {}, ['Inbound'], JSON.parse('{"__proto__":{"polluted":true}}')),
  fc.constantFrom(...HOSTILE_STRINGS),
  absurdNumber,
  unicodeString,
  fc.integer({ min: 2000, max: 300_000 }).map((n) => 'y'.repeat(n)),
  fc.jsonValue({ maxDepth: 3 }),
);

function validValue(s: SwaggerSchema, name: string): fc.Arbitrary<unknown> {
  if (s.enum) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number':
      return fc.integer({ min: 0, max: 10 });
    case 'array':
      return fc.array(validValue(s.items ?? {}, name), { maxLength: 4 });
    case 'object':
      return validObject(s);
    default:
      return VALID_BY_NAME[name] ? fc.constantFrom(...VALID_BY_NAME[name]!) : fc.string({ maxLength: 20 });
  }
}

function validObject(s: SwaggerSchema): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(s.properties ?? {});
  const model = Object.fromEntries(entries.map(([k, v]) => [k, validValue(v, k)]));
  return fc.record(model, { requiredKeys: (s.required ?? []).filter((k) => k in model) });
}

/** A body for a schema: valid, with one property of the wrong type, with hostile keys, or not JSON at all. */
function bodyFor(s: SwaggerSchema): fc.Arbitrary<{ text: string; contentType: string; shape: string }> {
  const props = Object.keys(s.properties ?? {});
  const json = (shape: string) => (v: unknown) => ({ text: JSON.stringify(v), contentType: 'application/json', shape });
  const wrongType =
    props.length > 0
      ? fc.tuple(validObject(s), fc.constantFrom(...props), wrongValue).map(([o, k, v]) => json(`wrong type for ${k}`)({ ...o, [k]: v }))
      : fc.constant(json('empty')({}));
  return fc.oneof(
    { weight: 3, arbitrary: validObject(s).map(json('valid')) },
    { weight: 3, arbitrary: wrongType },
    {
      weight: 2,
      arbitrary: fc.tuple(validObject(s), fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.jsonValue({ maxDepth: 2 })).map(([o, k, v]) => ({
        // JSON.stringify drops a __proto__ set by assignment; write the key into the text itself.
        text: `{${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}${Object.keys(o).length ? `,${JSON.stringify(o).slice(1)}` : '}'}`,
        contentType: 'application/json',
        shape: `key ${k}`,
      })),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(json('any JSON value')) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom('{', '{"enabled":', '{"direction":"Inbound",}', "{'a':1}", 'undefined', 'NaN', '{"a":1}{"b":2}', '\u0000', '[', '"unterminated')
        .map((text) => ({ text, contentType: 'application/json', shape: 'malformed JSON' })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          validObject(s),
          fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/jsonx', ''),
        )
        .map(([o, contentType]) => ({ text: JSON.stringify(o), contentType, shape: `content type "${contentType}"` })),
    },
    { weight: 1, arbitrary: unicodeString.map((text) => ({ text, contentType: 'application/json', shape: 'unicode text' })) },
  );
}

export function requestFor(op: Operation, apiKey: string): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const bodyParam = op.parameters.find((p) => p.in === 'body');

  const pathArb = fc.tuple(...pathParams.map((p) => stringFor(p.name, p)));
  const queryArb = fc.tuple(
    ...queryParams.map((p) =>
      fc.option(
        p.type === 'integer' || p.type === 'boolean' ? fc.oneof(stringFor(p.name, p), absurdNumber.map(String), fc.constantFrom('true', 'false', '1', '0')) : stringFor(p.name, p),
        { nil: undefined, freq: 2 },
      ),
    ),
  );
  const extraQuery = fc.option(fc.constantFrom('__proto__[polluted]=1', 'constructor[prototype][polluted]=1', 'a=1&a=2', 'state=All&state=Installed', '%zz=1'), { nil: undefined, freq: 3 });
  const bodyArb = bodyParam?.schema ? bodyFor(bodyParam.schema).map((b) => b as { text: string; contentType: string; shape: string } | undefined) : fc.constant(undefined);

  return fc.tuple(pathArb, queryArb, extraQuery, bodyArb).map(([pathValues, queryValues, extra, body]) => {
    let path = op.path;
    pathParams.forEach((p, i) => {
      path = path.replace(`{${p.name}}`, encodePathValue(pathValues[i] ?? ''));
    });
    const query = new URLSearchParams();
    queryParams.forEach((p, i) => {
      const v = queryValues[i];
      if (v !== undefined) query.append(p.name, v);
    });
    const qs = [query.toString(), extra].filter(Boolean).join('&');
    const headers: Record<string, string> = { 'x-api-key': apiKey };
    if (body?.contentType) headers['content-type'] = body.contentType;
    return {
      method: op.method,
      path: qs ? `${path}?${qs}` : path,
      headers,
      ...(body ? { body: body.text } : {}),
      shape: body?.shape ?? 'no body',
    };
  });
}

/** Percent-encodes a path value; a lone surrogate (not encodable) becomes its raw, invalid UTF-8 bytes. */
function encodePathValue(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return '%ED%A0%80';
  }
}
