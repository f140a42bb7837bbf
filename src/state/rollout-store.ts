// Rollout records: one document per rollout (its plan, every environment's row and its own audit
// events), written whole after each change. The record is the rollout's memory across restarts:
// whichever process holds the rollout's lease reads it back and carries on from there.
// The shape is plain data so this seam runs no feature code.

export interface RolloutRecordDocument {
  rolloutId: string;
  /** Running until the rollout ends; anything else is final. */
  status: string;
  createdAt: string;
  /** Everything else the rollout feature keeps (request, rows, events). */
  [key: string]: unknown;
}

export interface RolloutPage {
  items: RolloutRecordDocument[];
  total: number;
}

export interface RolloutStore {
  /** Stores the record, replacing the one with the same rolloutId. */
  put(record: RolloutRecordDocument): Promise<void>;
  get(rolloutId: string): Promise<RolloutRecordDocument | undefined>;
  /** Newest first. */
  list(page: { skip: number; top: number }): Promise<RolloutPage>;
  /** Rollouts not yet ended: what a starting (or idle) replica may pick up. */
  unfinished(): Promise<RolloutRecordDocument[]>;
  close(): Promise<void>;
}

export function pageNewestFirst(all: Iterable<RolloutRecordDocument>, page: { skip: number; top: number }): RolloutPage {
  const sorted = [...all].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.rolloutId.localeCompare(a.rolloutId));
  return { items: sorted.slice(page.skip, page.skip + page.top), total: sorted.length };
}

export function createMemoryRolloutStore(): RolloutStore {
  const records = new Map<string, RolloutRecordDocument>();
  return {
    async put(record) {
      records.set(record.rolloutId, structuredClone(record));
    },
    async get(id) {
      const r = records.get(id);
      return r && structuredClone(r);
    },
    async list(page) {
      return structuredClone(pageNewestFirst(records.values(), page));
    },
    async unfinished() {
      return [...records.values()].filter((r) => r.status === 'Running').map((r) => structuredClone(r));
    },
    async close() {},
  };
}
