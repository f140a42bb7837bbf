// Shutdown while an isolation write is on its way upstream: the write finishes (upstream stores it,
// the caller gets its 200) and its audit record is on disk before the app has closed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait-for.js';

t.test('an isolation PUT in flight completes and is audited when the app closes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-shutdown-audit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const auditFile = join(dir, 'audit.jsonl');
  const stack = await startStack({ env: { AUDIT_STORE: `file:${auditFile}` } });
  t.teardown(() => stack.close());
  // The simulator holds the PUT between reading the body and storing it.
  stack.sim.control.setOption('slowPutMs', 400);
  const revisionBefore = stack.sim.control.policyRevision();

  const write = stack.request('PUT', '/v1/tenant-isolation/rules/woodgrove.onmicrosoft.com', {
    body: { direction: 'Inbound', reason: 'written during shutdown' },
  });
  // Close once the PUT has reached upstream.
  await waitFor(() => stack.sim.control.calls({ route: 'bap.isolation.put' }).length > 0, 'the PUT to reach upstream');
  t.equal(stack.sim.control.calls({ route: 'bap.isolation.put' }).length, 1, 'the PUT is in flight');
  const closed = stack.app.close();
  const answer = await write;
  await closed;

  t.equal(answer.status, 200, JSON.stringify(answer.body));
  t.equal(answer.body.applied, true);
  t.ok(stack.sim.control.policyRevision() > revisionBefore, 'upstream stored the write');
  // The file store's lines: an intent before the PUT, a completion after it (audit-store.ts).
  const lines = readFileSync(auditFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; changeId?: string; record?: { changeId: string; reason?: string }; completion?: { outcome?: string } });
  const intent = lines.find((l) => l.record?.reason === 'written during shutdown');
  t.ok(intent, 'the change is in the audit file');
  const completion = lines.find((l) => l.kind === 'completion' && l.changeId === intent?.record?.changeId);
  t.ok(completion, 'and so is its completion, written before the app finished closing');
  t.equal(completion?.completion?.outcome, 'applied');
});
