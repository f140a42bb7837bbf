// The permission sweep: every operation of the connector definition (the committed
// apiDefinition.swagger.json and the one the running app generates from its routes) is refused
// without credentials (401), with wrong credentials (401), and with credentials that hold every
// permission except the one it needs (403 naming it); and a credential holding just that one
// permission gets past auth. The needed permission is found by the sweep itself, not listed here,
// so a route that forgets its permission (or declares a different one) cannot hide.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { PERMISSIONS, type Permission } from '../../src/config.js';
import { sha256Hex } from '../../src/http/api-keys.js';
import { defaultSeed } from '../../src/simulator/index.js';
import { type Stack, startStack } from '../helpers/stack.js';

interface Operation {
  method: string;
  path: string;
  operationId: string;
}

type SwaggerDoc = { basePath?: string; paths: Record<string, Record<string, { operationId?: string }>> };

function operationsOf(doc: SwaggerDoc): Operation[] {
  const base = doc.basePath && doc.basePath !== '/' ? doc.basePath : '';
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([method, op]) => ['get', 'put', 'post', 'delete', 'patch'].includes(method) && op?.operationId)
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        path: `${base}${path}`,
        operationId: op.operationId!,
      })),
  );
}

const SAMPLE: Record<string, string> = {
  environmentId: defaultSeed().environments[0]!.id,
  operationId: '00000000-0000-4000-8000-000000000001',
  uniqueName: 'SamplePackage',
  tenant: 'fabrikam.onmicrosoft.com',
};
const concrete = (path: string) =>
  path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(SAMPLE[name] ?? 'sample'));

const keyFor = (label: string) => `sweep-${label}-0123456789abcdef`;
const keyEntries = PERMISSIONS.flatMap((p) => [
  `only-${p}:${sha256Hex(keyFor(`only-${p}`))}:${p}`,
  `allbut-${p}:${sha256Hex(keyFor(`allbut-${p}`))}:${PERMISSIONS.filter((q) => q !== p).join('+')}`,
]);

// Far more refused credentials than one client would send: the failed-auth budget is not under test here.
const stack = await startStack({ env: { API_KEYS: keyEntries.join(','), RATE_LIMIT_PER_MINUTE: '100000', AUTH_FAILURES_PER_MINUTE: '100000' } });
t.teardown(() => stack.close());

const committed = operationsOf(
  JSON.parse(readFileSync(new URL('../../apiDefinition.swagger.json', import.meta.url), 'utf8')),
);
const served = operationsOf(
  (await stack.request('GET', '/apiDefinition.swagger.json', { headers: { 'x-api-key': '' } })).body,
);
const byId = new Map<string, Operation>();
for (const op of [...committed, ...served]) byId.set(`${op.method} ${op.path}`, op);
const registered = new Set(served.map((op) => `${op.method} ${op.path}`));

t.ok(byId.size >= 12, `the sweep covers ${byId.size} operations`);
t.ok(served.length > 0, 'the running app serves its definition');

const send = (s: Stack, op: Operation, headers: Record<string, string>) =>
  s.request(op.method, concrete(op.path), {
    headers: { 'x-api-key': '', ...headers },
    ...(op.method === 'PUT' || op.method === 'POST' ? { body: {} } : {}),
  });

for (const op of byId.values()) {
  const label = `${op.operationId}: ${op.method} ${op.path}`;
  if (!registered.has(`${op.method} ${op.path}`)) {
    t.test(label, { todo: 'route not registered in the app yet' }, async (t) => {
      t.fail('not registered');
    });
    continue;
  }
  t.test(label, async (t) => {
    const none = await send(stack, op, {});
    t.equal(none.status, 401, 'no credentials');
    t.ok(none.headers['www-authenticate'], 'with a challenge');
    // The router decodes %-escapes: an encoded /v1 must not slip past the auth check.
    const encoded = await stack.request(op.method, concrete(op.path).replace(/^\/v1\//, '/%76%31/'), { headers: { 'x-api-key': '' } });
    t.equal(encoded.status, 401, 'no credentials, path written as /%76%31/...');
    // A signature in a form the wait route would not read must not count as one here either.
    for (const q of ['%73ig=1.x', 'sig=1.x&sig=2.y', 'sig=']) {
      const disguised = await stack.request(op.method, `${concrete(op.path)}?${q}`, { headers: { 'x-api-key': '' } });
      t.equal(disguised.status, 401, `no credentials, ?${q}`);
    }
    const wrong = await send(stack, op, { 'x-api-key': 'not-a-key-0123456789' });
    t.equal(wrong.status, 401, 'a wrong key');

    const refusedBy: Permission[] = [];
    for (const p of PERMISSIONS) {
      const res = await send(stack, op, { 'x-api-key': keyFor(`allbut-${p}`) });
      t.not(res.status, 401, `key without ${p} is authenticated`);
      if (res.status === 403 && res.body?.error?.code === 'PermissionDenied') {
        refusedBy.push(p);
        t.equal(res.body.error.target, p, '403 names the missing permission');
        t.match(
          res.body.error.message,
          new RegExp(`lacks the permission ${p.replace('.', '\\.')}.*API_KEYS`),
        );
      }
    }
    t.equal(
      refusedBy.length,
      1,
      `exactly one permission guards it (found: ${refusedBy.join(', ') || 'none'})`,
    );
    const needed = refusedBy[0];
    if (needed) {
      const only = await send(stack, op, { 'x-api-key': keyFor(`only-${needed}`) });
      t.not(only.status, 401, `${needed} alone gets past auth (${only.status})`);
      t.not(
        only.status,
        403,
        `${needed} alone is enough (${JSON.stringify(only.body?.error?.message ?? '')})`,
      );
    }
    // The wait URL continues InstallPackage, so it takes the install permission (or its signed token).
    const expected =
      op.path.includes('/install') || op.path.endsWith('/wait')
        ? 'packages.install'
        : op.path.startsWith('/v1/environments')
          ? 'packages.read'
          : op.path.startsWith('/v1/rollouts')
            ? op.method === 'GET'
              ? 'packages.read'
              : 'packages.install'
          : op.path.startsWith('/v1/tenant-isolation')
            ? op.method === 'GET' || op.path.endsWith('/check') // Check posts a desired state but writes nothing
              ? 'isolation.read'
              : 'isolation.write'
            : undefined;
    if (expected) t.equal(needed, expected, `guarded by ${expected}, the permission the README's table gives it`);
  });
}

t.test(
  'entra mode: every registered operation refuses no token, a bad token and a token without its role',
  async (t) => {
    const clientId = defaultSeed().relayApp.clientId;
    const entra = await startStack({
      // Two refused calls per operation: more than the default failed-authentication budget.
      env: { AUTH_MODE: 'entra', ENTRA_AUDIENCE: `api://${clientId}`, RATE_LIMIT_PER_MINUTE: '100000', AUTH_FAILURES_PER_MINUTE: '100000' },
    });
    t.teardown(() => entra.close());
    const noRoles = await entra.sim.control.mintToken({
      audience: `api://${clientId}`,
      tenantId: entra.sim.tenantId,
      appid: 'flows',
      roles: [],
    });
    for (const op of served) {
      const label = `${op.operationId}`;
      t.equal((await send(entra, op, {})).status, 401, `${label}: no token`);
      t.equal(
        (await send(entra, op, { authorization: 'Bearer not.a.token' })).status,
        401,
        `${label}: bad token`,
      );
      const res = await send(entra, op, { authorization: `Bearer ${noRoles}` });
      t.equal(res.status, 403, `${label}: token without a role`);
      t.match(res.headers['www-authenticate'], /insufficient_scope/);
    }
  },
);
