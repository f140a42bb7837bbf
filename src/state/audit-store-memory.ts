// AUDIT_STORE=memory: the audit log kept in this process only (tests, throwaway demos). Lost on
// restart by design; use file:<path> for anything real.
import {
  type AuditCompletion,
  type AuditLogEntry,
  type AuditQuery,
  type AuditRecord,
  type AuditStore,
  foldAuditLog,
  pageAuditRecords,
} from './audit-store.js';

export function createMemoryAuditStore(): AuditStore {
  const log: AuditLogEntry[] = [];
  const append = async (entry: AuditLogEntry) => {
    // Copies, so later changes to the caller's objects never rewrite history.
    log.push(structuredClone(entry));
  };
  return {
    record: (record: AuditRecord) => append({ kind: 'record', record }),
    begin: (record: AuditRecord) => append({ kind: 'intent', record }),
    complete: (changeId: string, completion: AuditCompletion) =>
      append({ kind: 'completion', changeId, completion }),
    async list(query: AuditQuery) {
      return structuredClone(
        pageAuditRecords(foldAuditLog(log.map((entry, seq) => ({ seq, entry }))), query),
      );
    },
    async flush() {},
    async close() {},
  };
}
