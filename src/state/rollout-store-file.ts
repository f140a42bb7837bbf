// The embedded rollout store: every write appends the whole record as one JSON line (fsynced), and
// the last line per rollout wins when the file is read back at start. Appending instead of
// rewriting means a crash mid-write can only tear the newest line, which is then skipped and the
// rollout resumes from the line before it. The file sits beside the audit file.
import { mkdirSync, readFileSync } from 'node:fs';
import { appendFile, open } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pageNewestFirst, type RolloutRecordDocument, type RolloutStore } from './rollout-store.js';
import { createMemoryRolloutStore } from './rollout-store.js';

/** AUDIT_STORE=file:/x/audit.jsonl → /x/rollouts.jsonl; memory → undefined (kept in memory). */
export function rolloutFileBesideAudit(auditStore: string): string | undefined {
  if (!auditStore.startsWith('file:')) return undefined;
  return join(dirname(resolve(auditStore.slice('file:'.length))), 'rollouts.jsonl');
}

export function createFileRolloutStore(path: string, onBadLine?: (line: number) => void): RolloutStore {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  const records = new Map<string, RolloutRecordDocument>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const r = JSON.parse(line) as RolloutRecordDocument;
      if (typeof r?.rolloutId === 'string') records.set(r.rolloutId, r);
      else onBadLine?.(i + 1);
    } catch {
      onBadLine?.(i + 1);
    }
  });
  // A torn last line must not glue itself to the next record.
  let prefix = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
  let queue: Promise<unknown> = Promise.resolve();
  const memory = createMemoryRolloutStore();
  const loaded = Promise.all([...records.values()].map((r) => memory.put(r)));

  return {
    async put(record) {
      await loaded;
      const line = `${prefix}${JSON.stringify(record)}\n`;
      prefix = '';
      const write = queue.then(async () => {
        await appendFile(file, line);
        const fh = await open(file, 'r');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      });
      queue = write.catch(() => {});
      await write;
      await memory.put(record);
    },
    async get(id) {
      await loaded;
      return memory.get(id);
    },
    async list(page) {
      await loaded;
      return memory.list(page);
    },
    async unfinished() {
      await loaded;
      return memory.unfinished();
    },
    async close() {
      await queue;
    },
  };
}

export { pageNewestFirst };
