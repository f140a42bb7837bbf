// The embedded rollout store: the last line per rollout wins when read back, and a line torn by a
// crash is skipped (the rollout resumes from the line before it), never fatal.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createFileRolloutStore, rolloutFileBesideAudit } from '../../src/state/rollout-store-file.js';

t.test('read back after a restart, torn last line skipped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'rollouts.jsonl');
  const first = createFileRolloutStore(file);
  await first.put({ rolloutId: 'a', status: 'Running', createdAt: '2026-01-01T00:00:00.000Z', step: 1 });
  await first.put({ rolloutId: 'a', status: 'Running', createdAt: '2026-01-01T00:00:00.000Z', step: 2 });
  await first.put({ rolloutId: 'b', status: 'Succeeded', createdAt: '2026-01-02T00:00:00.000Z' });
  await first.close();
  appendFileSync(file, '{"rolloutId":"a","status":"Succ');
  const bad: number[] = [];
  const again = createFileRolloutStore(file, (line) => bad.push(line));
  t.same(bad, [4], 'the torn line is reported');
  t.match(await again.get('a'), { status: 'Running', step: 2 }, 'the last whole line wins');
  t.same((await again.unfinished()).map((r) => r.rolloutId), ['a']);
  t.same((await again.list({ skip: 0, top: 10 })).items.map((r) => r.rolloutId), ['b', 'a']);
  await again.put({ rolloutId: 'a', status: 'Succeeded', createdAt: '2026-01-01T00:00:00.000Z', step: 3 });
  await again.close();
  const lines = readFileSync(file, 'utf8').split('\n');
  t.match(JSON.parse(lines.at(-2)!), { rolloutId: 'a', step: 3 }, 'the next record starts on a line of its own');
  t.match(await createFileRolloutStore(file).get('a'), { status: 'Succeeded', step: 3 });
});

t.test('the file sits beside the audit file; memory audit means memory rollouts', async (t) => {
  t.equal(rolloutFileBesideAudit('file:/var/relay/audit.jsonl'), '/var/relay/rollouts.jsonl');
  t.equal(rolloutFileBesideAudit('memory'), undefined);
});
