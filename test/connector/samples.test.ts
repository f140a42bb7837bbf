// The sample flows in connector/samples must work against the definition as generated: every
// connector action names an existing operation (Power Automate: operationId; Logic Apps: method and
// path), passes only parameters that operation has, with allowed values, includes the required ones,
// and reads only output properties its 200 schema declares.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { deref, operations, parametersOf } from '../../scripts/connector-check/connector-rules.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const root = fileURLToPath(new URL('../../', import.meta.url));
const doc = JSON.parse(readFileSync(join(root, 'apiDefinition.swagger.json'), 'utf8')) as Obj;
const samplesDir = join(root, 'connector/samples');
const files = readdirSync(samplesDir).filter((f) => f.endsWith('.json'));

interface FoundAction {
  name: string;
  action: Obj;
}

function collectActions(node: unknown, found: FoundAction[] = []): FoundAction[] {
  if (!isObj(node)) return found;
  for (const [key, value] of Object.entries(node)) {
    // Triggers are connector calls too (a polling trigger is an operation of the definition).
    if ((key === 'actions' || key === 'triggers') && isObj(value)) {
      for (const [name, action] of Object.entries(value)) {
        if (isObj(action)) found.push({ name, action });
        collectActions(action, found);
      }
    } else if (isObj(value)) collectActions(value, found);
  }
  return found;
}

/** Finds the operation a Logic Apps ApiConnection path addresses; `@{…}` segments match any {var}. */
function operationForPath(method: string, path: string) {
  const segments = path.split('?')[0]!.split('/');
  for (const o of operations(doc)) {
    if (o.method !== method.toLowerCase()) continue;
    const theirs = o.path.split('/');
    if (theirs.length !== segments.length) continue;
    if (theirs.every((s, i) => (s.startsWith('{') ? segments[i]!.length > 0 : s === segments[i]))) return o;
  }
  return undefined;
}

function checkValue(schema: Obj, value: unknown, where: string, out: string[]) {
  if (typeof value === 'string' && value.startsWith('@')) return; // an expression: checked at run time
  const s = deref(doc, schema);
  if (Array.isArray(s.enum) && !s.enum.includes(value))
    out.push(`${where}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`);
  const jsType = typeof value;
  if (s.type === 'boolean' && jsType !== 'boolean') out.push(`${where}: expects a boolean`);
  if ((s.type === 'integer' || s.type === 'number') && jsType !== 'number')
    out.push(`${where}: expects a number`);
  if (s.type === 'string' && jsType !== 'string') out.push(`${where}: expects a string`);
}

function checkCall(
  where: string,
  op: Obj,
  pathItem: Obj,
  given: { named: Record<string, unknown>; body?: Record<string, unknown>; pathFilled: boolean },
  out: string[],
) {
  const params = parametersOf(doc, op, pathItem);
  const bodyParam = params.find((p) => p.in === 'body');
  const bodySchema = bodyParam ? deref(doc, bodyParam.schema) : undefined;
  const bodyProps = (bodySchema?.properties ?? {}) as Record<string, Obj>;
  for (const [name, value] of Object.entries(given.named)) {
    const p = params.find((x) => x.name === name && x.in !== 'body');
    if (!p) out.push(`${where}: ${op.operationId} has no parameter ${name}`);
    else checkValue(p, value, `${where} ${name}`, out);
  }
  for (const [name, value] of Object.entries(given.body ?? {})) {
    if (!bodyParam) out.push(`${where}: ${op.operationId} takes no body`);
    else if (!(name in bodyProps)) out.push(`${where}: the ${op.operationId} body has no property ${name}`);
    else checkValue(bodyProps[name]!, value, `${where} body.${name}`, out);
  }
  for (const p of params.filter((x) => x.required === true && x.in !== 'body')) {
    if (p.in === 'path' && given.pathFilled) continue;
    if (!(String(p.name) in given.named) && p.default === undefined)
      out.push(`${where}: required parameter ${String(p.name)} is missing`);
  }
  if (bodyParam && given.body) {
    for (const name of (bodySchema?.required ?? []) as string[]) {
      if (!(name in given.body)) out.push(`${where}: required body property ${name} is missing`);
    }
  }
}

for (const file of files) {
  t.test(`sample ${file}`, async (t) => {
    const sample = JSON.parse(readFileSync(join(samplesDir, file), 'utf8'));
    const actions = collectActions(sample);
    const out: string[] = [];
    const operationOf = new Map<string, Obj>();
    let connectorActions = 0;
    for (const { name, action } of actions) {
      const inputs = (action.inputs ?? {}) as Obj;
      const where = `${file} ${name}`;
      const host = (inputs.host ?? {}) as Obj;
      // Actions of other connectors (Teams, SharePoint) are theirs to check, not this definition's.
      const ours = !String(host.apiId ?? '').includes('/apis/shared_') || String(host.apiId).endsWith('/shared_admin-relay');
      if (action.type === 'OpenApiConnection' && ours) {
        connectorActions++;
        const found = [...operations(doc)].find((o) => o.op.operationId === host.operationId);
        if (!found) {
          out.push(`${where}: no operation ${String(host.operationId)}`);
          continue;
        }
        operationOf.set(name, found.op);
        const named: Record<string, unknown> = {};
        const body: Record<string, unknown> = {};
        for (const [key, value] of Object.entries((inputs.parameters ?? {}) as Obj)) {
          if (key.startsWith('body/')) body[key.slice(5)] = value;
          else named[key] = value;
        }
        checkCall(
          where,
          found.op,
          found.pathItem,
          { named, body: Object.keys(body).length ? body : undefined, pathFilled: false },
          out,
        );
      } else if (action.type === 'ApiConnection') {
        connectorActions++;
        const found = operationForPath(String(inputs.method), String(inputs.path));
        if (!found) {
          out.push(
            `${where}: no operation for ${String(inputs.method).toUpperCase()} ${String(inputs.path)}`,
          );
          continue;
        }
        operationOf.set(name, found.op);
        checkCall(
          where,
          found.op,
          found.pathItem,
          { named: (inputs.queries ?? {}) as Obj, body: inputs.body as Obj | undefined, pathFilled: true },
          out,
        );
      }
    }
    // Outputs read with body('Action')?['property'] must exist on the action's 200 schema.
    const text = JSON.stringify(sample);
    for (const m of text.matchAll(/body\('([^']+)'\)\?\['([^']+)'\]/g)) {
      const op = operationOf.get(m[1]!);
      if (!op) continue;
      const ok = deref(doc, ((op.responses as Obj)['200'] as Obj | undefined)?.schema);
      if (!(m[2]! in ((ok.properties ?? {}) as Obj)))
        out.push(`${file}: ${m[1]} output has no property ${m[2]}`);
    }
    t.ok(connectorActions > 0, 'the sample uses the connector');
    t.same(out, [], 'every connector action matches the definition');
  });
}

t.test(
  'the samples cover install-and-wait and a dry-run-then-apply rule change on both platforms',
  async (t) => {
    const ids = (f: string) => readFileSync(join(samplesDir, f), 'utf8');
    t.match(ids('power-automate-install-package.json'), /"operationId": "InstallPackage"/);
    t.match(ids('logic-apps-install-package.json'), /\/install"/);
    t.match(ids('power-automate-add-tenant-rule.json'), /"body\/dryRun": true/);
    t.match(ids('logic-apps-add-tenant-rule.json'), /"dryRun": true/);
    t.match(ids('power-automate-alert-outside-isolation-change.json'), /"operationId": "OnIsolationPolicyChanged"/);
    t.match(ids('power-automate-alert-outside-isolation-change.json'), /outside the relay/);
    const restore = ids('power-automate-restore-isolation-policy.json');
    t.match(restore, /"operationId": "OnIsolationPolicyChanged"/);
    t.match(restore, /"operationId": "EnsureIsolationPolicy"[\s\S]*"body\/dryRun": true[\s\S]*"operationId": "EnsureIsolationPolicy"/, 'a dry run first, then the write');
    t.match(ids('power-automate-rollout-production.json'), /"operationId": "StartRollout"/);
  },
);

t.test('the checker refuses a wrong parameter, value or path', async (t) => {
  const out: string[] = [];
  const install = [...operations(doc)].find((o) => o.op.operationId === 'InstallPackage')!;
  checkCall(
    'x',
    install.op,
    install.pathItem,
    { named: { environmentId: 'e', nope: 1 }, pathFilled: false },
    out,
  );
  const upsert = [...operations(doc)].find((o) => o.op.operationId === 'UpsertIsolationRule')!;
  checkCall(
    'y',
    upsert.op,
    upsert.pathItem,
    { named: { tenant: 't' }, body: { direction: 'Sideways', dryRun: 'yes' }, pathFilled: false },
    out,
  );
  const text = out.join('\n');
  t.match(text, /no parameter nope/);
  t.match(text, /required parameter uniqueName is missing/);
  t.match(text, /"Sideways" is not one of/);
  t.match(text, /dryRun: expects a boolean/);
  t.notOk(operationForPath('post', '/v1/environments/x/packages/y/instal'));
});
