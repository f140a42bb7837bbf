// Validators for the three vendored connector schemas (see schemas/README.md), patched where the
// platform accepts things the 2020 editor schemas lack.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// The ajv packages are CommonJS with a `default` export; loading them through require keeps the
// types simple under NodeNext.
type AjvLike = { compile(schema: unknown): Validate };
type AjvConstructor = new (options: Record<string, unknown>) => AjvLike;
const require = createRequire(import.meta.url);
const Ajv = (require('ajv') as { default: AjvConstructor }).default;
const Ajv04 = (require('ajv-draft-04') as { default: AjvConstructor }).default;
const addFormats = (require('ajv-formats') as { default: (ajv: AjvLike) => void }).default;

const SCHEMA_DIR = fileURLToPath(new URL('./schemas/', import.meta.url));

/** JSONC → JSON: drops // and /* comments outside strings, and trailing commas. */
export function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      i += 2;
      while (i < text.length && !(text[i] === '*' && text[i + 1] === '/')) i++;
      i++;
    } else out += c;
  }
  return out.replace(/,(\s*[}\]])/g, '$1');
}

function readSchema(name: string): Record<string, unknown> {
  return JSON.parse(stripJsonComments(readFileSync(`${SCHEMA_DIR}${name}`, 'utf8')));
}

type Validate = ((data: unknown) => boolean) & {
  errors?: Array<{
    instancePath: string;
    message?: string;
    keyword: string;
    params?: Record<string, unknown>;
  }> | null;
};

function findings(label: string, validate: Validate, data: unknown): string[] {
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  const useful = errors.filter((e) => !['oneOf', 'anyOf', 'not'].includes(e.keyword));
  const lines = (useful.length ? useful : errors).map(
    (e) =>
      `${label}: schema: ${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`,
  );
  return [...new Set(lines)];
}

let cached: { swagger: Validate; properties: Validate; settings: Validate } | undefined;

function validators() {
  if (cached) return cached;
  const ajv04 = new Ajv04({ strict: false, allErrors: true });
  addFormats(ajv04);
  const swagger = ajv04.compile(readSchema('apiDefinition.swagger.schema.jsonc'));

  const propertiesSchema = readSchema('paconn-apiProperties.schema.jsonc');
  delete propertiesSchema.id;
  const inner = (propertiesSchema.properties as Record<string, { properties?: Record<string, unknown> }>)
    .properties;
  if (inner?.properties) {
    inner.properties.scriptOperations = { type: 'array', items: { type: 'string' } };
    inner.properties.connectionParameterSets = { type: 'object' };
  }
  const patchedProperties = JSON.parse(
    JSON.stringify(propertiesSchema).replace(
      /"enum":\["Global","Direct"\]/g,
      '"enum":["Global","Direct","GlobalPerConnector"]',
    ),
  );
  const ajv07 = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv07);
  const properties = ajv07.compile(patchedProperties);

  const settingsSchema = readSchema('paconn-settings.schema.jsonc');
  delete settingsSchema.id;
  const props = settingsSchema.properties as Record<string, unknown>;
  props.script = { type: 'string' };
  props.environment = { type: 'string', pattern: '^(Default-)?[0-9a-fA-F-]{36}$' };
  const settings = ajv07.compile(settingsSchema);
  cached = { swagger, properties, settings };
  return cached;
}

export const validateDefinitionSchema = (doc: unknown) => findings('swagger', validators().swagger, doc);
export const validatePropertiesSchema = (props: unknown) =>
  findings('apiProperties', validators().properties, props);
export const validateSettingsSchema = (settings: unknown) =>
  findings('settings', validators().settings, settings);
