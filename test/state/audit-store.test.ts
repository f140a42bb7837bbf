import { spawn } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import t, { type Test } from 'tap';
import { createAuditStore } from '../../src/state/audit-store-factory.js';
import { createFileAuditStore } from '../../src/state/audit-store-file.js';
import { createMemoryAuditStore } from '../../src/state/audit-store-memory.js';
import { behavesLikeAStore, rec } from './audit-store-contract.js';

function tempFile(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'audit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'nested', 'audit.jsonl');
}

t.test('memory store', async (t) => {
  const store = createMemoryAuditStore();
  await behavesLikeAStore(t, store);
  const r = rec(9);
  await store.record(r);
  r.reason = 'rewritten';
  t.equal((await store.list({ pageSize: 1 })).items[0]!.reason, 'reason 9', 'history is a copy');
});

t.test('file store: same behaviour, and a new instance reads everything back', async (t) => {
  const path = tempFile(t);
  const store = createAuditStore(`file:${path}`);
  await behavesLikeAStore(t, store);
  await store.close();
  await t.rejects(store.record(rec(20)), /closed/);
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  t.equal(lines.length, 9, 'one line per write, appended');

  const reopened = createFileAuditStore(path);
  const page = await reopened.list({ pageSize: 100 });
  t.same(
    page.items.map((r) => r.changeId),
    ['c8', 'c7', 'c6', 'c5', 'c4', 'c3', 'c2', 'c1'],
    'survives a restart',
  );
  t.equal(page.items.find((r) => r.changeId === 'c6')!.outcome, 'unknown');
  await reopened.complete('c6', {
    outcome: 'applied',
    completedAt: new Date().toISOString(),
    verified: true,
  });
  t.equal(
    (await reopened.list({ pageSize: 100 })).items.find((r) => r.changeId === 'c6')!.outcome,
    'applied',
  );
  await reopened.close();
});

t.test('file store: torn lines are skipped and later writes start on a fresh line', async (t) => {
  const path = tempFile(t);
  const store = createFileAuditStore(path);
  await store.record(rec(1));
  await store.close();
  appendFileSync(path, '{"kind":"record","record":{"changeId":"torn","at":"2026'); // crash mid-line
  const bad: number[] = [];
  const after = createFileAuditStore(path, { onBadLine: (n) => bad.push(n) });
  await after.record(rec(2));
  appendFileSync(path, '[1,2,3]\n');
  const page = await after.list({ pageSize: 10 });
  t.same(
    page.items.map((r) => r.changeId),
    ['c2', 'c1'],
    'both good records readable',
  );
  t.same(bad, [2, 4], 'the torn line and the foreign line reported, not fatal');
  await after.close();
});

t.test('file store: concurrent writes are all kept, in order', async (t) => {
  const path = tempFile(t);
  const store = createFileAuditStore(path);
  await Promise.all(Array.from({ length: 50 }, (_, i) => store.record(rec(i))));
  await store.flush();
  const page = await store.list({ pageSize: 100 });
  t.equal(page.items.length, 50);
  t.same(
    page.items.map((r) => r.changeId),
    Array.from({ length: 50 }, (_, i) => `c${49 - i}`),
  );
  await store.close();
});

t.test('a process killed after the intent leaves an "unknown" record', async (t) => {
  const path = tempFile(t);
  const storeModule = resolve('src/state/audit-store-file.ts');
  // The child writes an intent, says so, then waits forever (as if inside the upstream PUT).
  const code = `
    const { createFileAuditStore } = await import(${JSON.stringify(storeModule)});
    const store = createFileAuditStore(${JSON.stringify(path)});
    await store.begin(${JSON.stringify(rec(1, { outcome: 'applied' }))});
    process.stdout.write('intent-written\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((resolveWritten, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('intent-written') && resolveWritten());
    child.on('exit', (c) => reject(new Error(`child exited early with ${c}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const store = createFileAuditStore(path);
  const [only] = (await store.list({ pageSize: 10 })).items;
  t.equal(only?.changeId, 'c1');
  t.equal(only?.outcome, 'unknown', 'the crash left a record whose outcome says unknown');
  await store.close();
});

t.test('file store: a failed open does not poison later writes', async (t) => {
  const path = tempFile(t);
  const dir = dirname(path);
  writeFileSync(dir, 'not a directory'); // the audit directory cannot be created
  const store = createFileAuditStore(path);
  t.teardown(() => store.close());
  await t.rejects(store.record(rec(1)), 'the write fails while the directory is blocked');
  rmSync(dir); // the operator fixes it
  await store.record(rec(2));
  t.same(
    (await store.list({ pageSize: 10 })).items.map((r) => r.changeId),
    ['c2'],
    'the next write opens the file again and succeeds',
  );
});

t.test('file store: after a failed append the next write reopens, on a fresh line', async (t) => {
  const path = tempFile(t);
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync('/dev/full', path); // every append fails with ENOSPC (a full disk)
  const bad: number[] = [];
  const store = createFileAuditStore(path, { onBadLine: (n) => bad.push(n) });
  t.teardown(() => store.close());
  await t.rejects(store.record(rec(1)), { code: 'ENOSPC' });
  // Space is freed; the failed write left half a line behind.
  rmSync(path);
  writeFileSync(path, `${JSON.stringify({ kind: 'record', record: rec(0) })}\n{"kind":"record","rec`);
  await store.record(rec(2));
  t.same(
    (await store.list({ pageSize: 10 })).items.map((r) => r.changeId),
    ['c2', 'c0'],
    'the write after the failure landed in the file, on its own line',
  );
  t.same(bad, [2], 'only the torn line is unreadable');
});

t.test('factory refuses a spec it does not know', async (t) => {
  t.throws(() => createAuditStore('redis://x'), /file:<path> or memory/);
  t.throws(() => createAuditStore('file:'), /file:<path> or memory/);
});
