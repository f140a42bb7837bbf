// Trigger snapshots: what a polling trigger last saw (a policy, an environment's package states),
// kept in the state store so the cursor in Location stays small while the bulky part survives
// restarts and is shared by replicas. Keyed by a hash of the content (the policy revision, a hash
// of package states): a key names one content forever, so saving it twice is harmless and any
// replica can load it.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Whatever a trigger compares the next poll with, as JSON (a policy, package states). */
export type TriggerSnapshot = unknown;

export interface TriggerSnapshotStore {
  save(key: string, snapshot: TriggerSnapshot): Promise<void>;
  /** Null when this revision was never saved (or its store was wiped). */
  load(key: string): Promise<TriggerSnapshot | null>;
}

export function createMemoryTriggerSnapshots(): TriggerSnapshotStore {
  const snapshots = new Map<string, TriggerSnapshot>();
  return {
    async save(revision, policy) {
      if (!snapshots.has(revision)) snapshots.set(revision, structuredClone(policy));
    },
    async load(revision) {
      const found = snapshots.get(revision);
      return found ? structuredClone(found) : null;
    },
  };
}

/** JSON lines on local disk, read again on every miss so a restarted relay (or a second process
 *  on the same file) finds what an earlier one saved. A torn last line is skipped. */
export function createFileTriggerSnapshots(path: string): TriggerSnapshotStore {
  const file = resolve(path);
  const known = new Map<string, TriggerSnapshot>();
  const readFile = () => {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as { revision: string; policy: TriggerSnapshot };
        if (typeof entry.revision === 'string' && entry.policy) known.set(entry.revision, entry.policy);
      } catch {
        // a line torn by a crash: the snapshot is saved again on the next baseline
      }
    }
  };
  return {
    async save(revision, policy) {
      if (known.has(revision)) return;
      mkdirSync(dirname(file), { recursive: true });
      // One short line per revision; leading newline keeps a torn previous line from swallowing it.
      appendFileSync(file, `\n${JSON.stringify({ revision, policy })}\n`);
      known.set(revision, structuredClone(policy));
    },
    async load(revision) {
      if (!known.has(revision)) readFile();
      const found = known.get(revision);
      return found ? structuredClone(found) : null;
    },
  };
}

/** Beside the audit trail: "memory" stays in memory, "file:<path>" gets <path>.trigger-snapshots.jsonl. */
export function createEmbeddedTriggerSnapshots(auditStoreSpec: string): TriggerSnapshotStore {
  if (auditStoreSpec.startsWith('file:') && auditStoreSpec.length > 'file:'.length)
    return createFileTriggerSnapshots(`${auditStoreSpec.slice('file:'.length)}.trigger-snapshots.jsonl`);
  return createMemoryTriggerSnapshots();
}
