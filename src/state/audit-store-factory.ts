// Builds the audit store config.auditStore names: "memory" or "file:<path>".
import type { AuditStore } from './audit-store.js';
import { createFileAuditStore, type FileAuditStoreOptions } from './audit-store-file.js';
import { createMemoryAuditStore } from './audit-store-memory.js';

export function createAuditStore(spec: string, options: FileAuditStoreOptions = {}): AuditStore {
  if (spec === 'memory') return createMemoryAuditStore();
  if (spec.startsWith('file:') && spec.length > 'file:'.length)
    return createFileAuditStore(spec.slice('file:'.length), options);
  throw new Error(`AUDIT_STORE: use file:<path> or memory (got "${spec}")`);
}
