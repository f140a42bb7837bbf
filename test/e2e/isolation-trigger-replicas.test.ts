// The isolation trigger across two replicas sharing PostgreSQL state (one upstream): the flow's
// checks land on either replica, each change is reported once, and a relay write made through one
// replica is attributed (actor, reason) by the other.
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { migratedDatabase, startPostgres } from '../helpers/postgres.js';
import { startStack } from '../helpers/stack.js';

const server = await startPostgres();
t.teardown(() => server.stop());
const stack = await startStack({ env: { STATE_STORE: 'postgres', DATABASE_URL: await migratedDatabase(server) } });
t.teardown(() => stack.close());
const second = await buildApp({ config: { ...stack.config }, upstream: stack.upstream });
t.teardown(() => second.close());
await second.listen({ host: '127.0.0.1', port: 0 });
const address = second.server.address();
if (!address || typeof address === 'string') throw new Error('no port');
const replicas = [stack.baseUrl, `http://127.0.0.1:${address.port}`];

const WOODGROVE = 'b1c2d3e4-f5a6-4b7c-9d8e-0f1a2b3c4d5e';
// biome-ignore lint/suspicious/noExplicitAny: test convenience
async function check(replica: number, location: string): Promise<{ status: number; body: any; location: string }> {
  const path = location.replace(/^https?:\/\/[^/]+/, '');
  const res = await fetch(`${replicas[replica]}${path}`, { headers: { 'x-api-key': stack.apiKey } });
  return { status: res.status, body: await res.json(), location: res.headers.get('location') ?? '' };
}

t.test('checks alternate between replicas: each change once, relay writes attributed', async (t) => {
  const base = await check(0, '/v1/tenant-isolation/trigger/changes?pollSeconds=60');
  t.equal(base.status, 202);
  const raw = structuredClone(stack.sim.control.getPolicy()) as { properties: { tenantId: string; allowedTenants: unknown[] } };
  raw.properties.allowedTenants.push({ tenantId: WOODGROVE, direction: { inbound: true, outbound: false } });
  stack.sim.control.setPolicy(raw.properties.tenantId, raw);

  const onB = await check(1, base.location);
  t.equal(onB.status, 200, JSON.stringify(onB.body));
  t.equal(onB.body.value.length, 1);
  t.equal(onB.body.value[0].madeBy, 'outside the relay');
  const againOnA = await check(0, onB.location);
  t.equal(againOnA.status, 202, 'the next check on the other replica does not repeat it');

  const write = await fetch(`${replicas[1]}/v1/tenant-isolation/enabled`, {
    method: 'PUT',
    headers: { 'x-api-key': stack.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ enabled: false, reason: 'maintenance window' }),
  });
  t.equal(write.status, 200);
  const fired = await check(0, againOnA.location);
  t.equal(fired.status, 200);
  t.equal(fired.body.value.length, 1);
  t.match(fired.body.value[0], { madeBy: 'relay', reason: 'maintenance window', diff: { enabledBefore: true, enabledAfter: false } });
  t.equal((await check(1, fired.location)).status, 202);
});
