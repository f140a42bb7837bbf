// The audit trail over HTTP: one record per change with actor, reason and correlation id; paging
// newest first; filters; a restart on the same file keeps everything; a crash between the intent
// and the PUT leaves a record whose outcome is "unknown"; a refused PUT is recorded as failed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { createFileAuditStore } from '../../src/state/audit-store-file.js';
import { type Stack, startStack } from '../helpers/stack.js';
import { FABRIKAM, OTHER, WOODGROVE, type Row } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'isolation-audit-'));
const auditFile = join(dir, 'audit.jsonl');
let stack: Stack;
t.before(async () => {
  stack = await startStack({ env: { AUDIT_STORE: `file:${auditFile}` } });
});
t.teardown(async () => {
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

const list = async (query = '') => (await stack.request('GET', `/v1/tenant-isolation/changes${query}`)).body;

t.test(
  'each change leaves one record with actor, reason, correlation id, before/after and diff',
  async (t) => {
    const write = await stack.request('PUT', `/v1/tenant-isolation/rules/${WOODGROVE}`, {
      body: { direction: 'Both', reason: 'ticket CHG-1' },
      headers: { 'x-correlation-id': 'corr-audit-1' },
    });
    t.equal(write.status, 200);
    const dry = await stack.request(
      'DELETE',
      `/v1/tenant-isolation/rules/${FABRIKAM}?dryRun=true&reason=what%20if`,
    );
    const noop = await stack.request('PUT', `/v1/tenant-isolation/rules/${WOODGROVE}`, {
      body: { direction: 'Both' },
    });
    const page = await list();
    const [n, d, w] = page.value;
    t.equal(w.changeId, write.body.changeId);
    t.match(w, {
      action: 'upsertRule',
      reason: 'ticket CHG-1',
      dryRun: false,
      outcome: 'applied',
      verified: true,
      correlationId: 'corr-audit-1',
      ruleTenantId: WOODGROVE,
      error: null,
    });
    t.match(w.actor, /^apikey:/, 'the caller as the auth layer named it');
    t.same(
      w.diff.added.map((r: Row) => r.tenantId),
      [WOODGROVE],
    );
    t.notOk(w.before.rules.some((r: Row) => r.tenantId === WOODGROVE));
    t.ok(w.after.rules.some((r: Row) => r.tenantId === WOODGROVE));
    t.type(w.completedAt, 'string');
    t.equal(d.changeId, dry.body.changeId);
    t.match(d, { outcome: 'dryRun', dryRun: true, reason: 'what if', action: 'removeRule' });
    t.equal(n.changeId, noop.body.changeId);
    t.match(n, { outcome: 'noChange', dryRun: false });
    t.equal(page.continuationToken, null);
    t.equal(page.nextLink, null);
  },
);

t.test(
  'paging newest first with page size, continuation token and nextLink; filters by tenant and date',
  async (t) => {
    for (const [i, direction] of (['Inbound', 'Outbound', 'Both', 'Inbound'] as const).entries()) {
      const res = await stack.request('PUT', `/v1/tenant-isolation/rules/${OTHER}`, {
        body: { direction, reason: `step ${i}` },
      });
      t.equal(res.status, 200);
    }
    const all = (await list('?pageSize=200')).value;
    const first = await list('?pageSize=2');
    t.same(
      first.value.map((r: Row) => r.changeId),
      all.slice(0, 2).map((r: Row) => r.changeId),
    );
    t.type(first.continuationToken, 'string');
    t.match(first.nextLink, new RegExp(`^${stack.baseUrl}/v1/tenant-isolation/changes\\?`));
    const second = await list(`?pageSize=2&continuationToken=${encodeURIComponent(first.continuationToken)}`);
    t.same(
      second.value.map((r: Row) => r.changeId),
      all.slice(2, 4).map((r: Row) => r.changeId),
    );
    const viaLink = (await stack.request('GET', first.nextLink.slice(stack.baseUrl.length))).body;
    t.same(
      viaLink.value.map((r: Row) => r.changeId),
      all.slice(2, 4).map((r: Row) => r.changeId),
      'nextLink gives the same page',
    );

    // Walk every page: each record once, newest first.
    const walked: string[] = [];
    let token: string | null = null;
    do {
      const page: { value: Row[]; continuationToken: string | null } = await list(
        `?pageSize=3${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
      );
      walked.push(...page.value.map((r: Row) => r.changeId));
      token = page.continuationToken;
    } while (token);
    t.same(
      walked,
      all.map((r: Row) => r.changeId),
    );
    const ats = all.map((r: Row) => Date.parse(r.at));
    t.same(
      ats,
      [...ats].sort((a, b) => b - a),
      'newest first',
    );

    const byTenant = (await list(`?tenant=${OTHER.toUpperCase()}`)).value;
    t.equal(byTenant.length, 4);
    t.same(
      byTenant.map((r: Row) => r.reason),
      ['step 3', 'step 2', 'step 1', 'step 0'],
    );
    const byDomain = (await list('?tenant=woodgrove.onmicrosoft.com')).value;
    t.ok(
      byDomain.length >= 2 && byDomain.every((r: Row) => r.ruleTenantId === WOODGROVE),
      'a domain filter resolves to the tenant',
    );
    const future = (await list(`?from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`))
      .value;
    t.same(future, []);
    const window = (
      await list(
        `?from=${encodeURIComponent(byTenant[2].at)}&to=${encodeURIComponent(byTenant[1].at)}&tenant=${OTHER}`,
      )
    ).value;
    t.same(
      window.map((r: Row) => r.reason).filter((r: string) => r === 'step 2' || r === 'step 1'),
      ['step 2', 'step 1'],
      'date bounds inclusive',
    );
    t.ok(
      window.every((r: Row) => r.at >= byTenant[2].at && r.at <= byTenant[1].at),
      'nothing outside the window',
    );
  },
);

t.test('a PUT upstream refuses is recorded as failed', async (t) => {
  stack.sim.control.addFault({
    route: 'bap.isolation.put',
    kind: 'status',
    status: 400,
    code: 'BadRequest',
    message: 'Invalid tenant ID format',
    times: 1,
  });
  const res = await stack.request('PUT', `/v1/tenant-isolation/rules/${FABRIKAM}`, {
    body: { direction: 'Outbound' },
  });
  t.equal(res.status, 400);
  t.match(res.body.error.message, /Invalid tenant ID format/);
  const [record] = (await list('?pageSize=1')).value;
  t.match(record, { action: 'upsertRule', outcome: 'failed', verified: false });
  t.match(record.error, /Invalid tenant ID format/);
});

t.test(
  'a restart on the same audit file keeps the trail, and a crash after the intent reads "unknown"',
  async (t) => {
    const before = (await list('?pageSize=200')).value;
    t.ok(before.length >= 8);
    t.ok(readFileSync(auditFile, 'utf8').trim().split('\n').length >= before.length, 'records are on disk');

    // A relay that died after writing the intent and before the PUT: its last durable act is the intent.
    const crashed = createFileAuditStore(auditFile);
    await crashed.begin({
      changeId: 'crashed-change',
      at: new Date().toISOString(),
      actor: 'apikey:demo',
      action: 'upsertRule',
      reason: 'interrupted',
      dryRun: false,
      tenantId: stack.sim.tenantId,
      ruleTenantId: OTHER,
      before: null,
      after: null,
      diff: null,
      correlationId: 'corr-crash',
      outcome: 'applied', // what it hoped for; the store must not believe it without a completion
      verified: null,
      completedAt: null,
      error: null,
    });
    await crashed.close();

    // A new relay process: a fresh app (and audit store) on the same file.
    const restarted = await buildApp({
      config: { ...stack.config, auditStore: `file:${auditFile}` },
      upstream: stack.upstream,
    });
    t.teardown(() => restarted.close());
    const res = await restarted.inject({
      method: 'GET',
      url: '/v1/tenant-isolation/changes?pageSize=200',
      headers: { 'x-api-key': stack.apiKey },
    });
    t.equal(res.statusCode, 200);
    const after = res.json().value;
    t.same(
      after.slice(1).map((r: Row) => r.changeId),
      before.map((r: Row) => r.changeId),
      'every earlier record survived the restart',
    );
    t.match(after[0], {
      changeId: 'crashed-change',
      outcome: 'unknown',
      completedAt: null,
      reason: 'interrupted',
    });

    // The restarted relay keeps appending to the same trail.
    const write = await restarted.inject({
      method: 'PUT',
      url: `/v1/tenant-isolation/rules/${OTHER}`,
      headers: { 'x-api-key': stack.apiKey, 'content-type': 'application/json' },
      payload: { direction: 'Outbound', reason: 'after restart' },
    });
    t.equal(write.statusCode, 200);
    const newest = (await list('?pageSize=1')).value[0];
    t.match(
      newest,
      { changeId: write.json().changeId, reason: 'after restart', outcome: 'applied' },
      'the first app reads it too',
    );
  },
);

t.test(
  'no audit trail, no change: a store that cannot write answers 503 and nothing reaches upstream',
  async (t) => {
    const broken = createFileAuditStore(join(dir, 'broken.jsonl'));
    await broken.close(); // every write now fails
    const app = await buildApp({ config: stack.config, upstream: stack.upstream, auditStore: broken });
    t.teardown(() => app.close());
    const before = stack.sim.control.calls({ route: 'bap.isolation.put' }).length;
    const headers = { 'x-api-key': stack.apiKey, 'content-type': 'application/json' };
    for (const payload of [{ direction: 'Both' }, { direction: 'Both', dryRun: true }]) {
      const res = await app.inject({
        method: 'PUT',
        url: `/v1/tenant-isolation/rules/${WOODGROVE.replace('b1', 'c1')}`,
        headers,
        payload,
      });
      t.equal(res.statusCode, 503);
      t.equal(res.json().error.code, 'AuditUnavailable');
      t.match(res.json().error.message, /nothing was changed.*AUDIT_STORE/);
    }
    t.equal(stack.sim.control.calls({ route: 'bap.isolation.put' }).length, before, 'no PUT');
  },
);
