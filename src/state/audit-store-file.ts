// AUDIT_STORE=file:<path>: the audit log as append-only JSON lines on local disk. Every line is
// fsynced before the write resolves, so an intent is on disk before the PUT it announces. Reads
// go back to the file (not a cache), so a restarted relay, or another process appending to the
// same file, sees every record. A line torn by a crash is skipped, never fatal.
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  type AuditCompletion,
  type AuditLogEntry,
  type AuditQuery,
  type AuditRecord,
  type AuditStore,
  foldAuditLog,
  isAuditLogEntry,
  pageAuditRecords,
} from './audit-store.js';

export interface FileAuditStoreOptions {
  /** Called for each line that cannot be read (a torn write after a crash). */
  onBadLine?: (lineNumber: number, reason: string) => void;
}

export function createFileAuditStore(path: string, options: FileAuditStoreOptions = {}): AuditStore {
  const file = resolve(path);
  let handle: Promise<FileHandle> | undefined;
  // Writes go one at a time, in call order; each waits for the one before.
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  async function openForAppend(): Promise<FileHandle> {
    await mkdir(dirname(file), { recursive: true });
    const fh = await open(file, 'a+');
    try {
      // A crash or a failed write can leave the last line without its newline; start ours on a
      // fresh line so the torn line stays the only casualty.
      const size = (await stat(file)).size;
      if (size > 0) {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) await fh.appendFile('\n');
      }
      return fh;
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
  }

  /** Forgets the handle after a failed open or write, so the next write opens the file again (and
   *  repairs a line the failure may have torn) instead of failing on the same handle until restart. */
  async function dropHandle(): Promise<void> {
    const dropped = handle;
    handle = undefined;
    await dropped?.then((fh) => fh.close()).catch(() => {});
  }

  function append(entry: AuditLogEntry): Promise<void> {
    if (closed)
      return Promise.reject(new Error(`The audit store ${file} is closed; the change was not recorded.`));
    const line = `${JSON.stringify(entry)}\n`;
    const write = queue.then(async () => {
      try {
        handle ??= openForAppend();
        const fh = await handle;
        await fh.appendFile(line, 'utf8');
        await fh.datasync();
      } catch (err) {
        await dropHandle();
        throw err;
      }
    });
    // The queue survives a failed write; the caller still sees the failure.
    queue = write.catch(() => {});
    return write;
  }

  async function readAll(): Promise<Array<{ seq: number; entry: AuditLogEntry }>> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const entries: Array<{ seq: number; entry: AuditLogEntry }> = [];
    text.split('\n').forEach((line, seq) => {
      if (line.trim() === '') return;
      try {
        const parsed: unknown = JSON.parse(line);
        if (isAuditLogEntry(parsed)) entries.push({ seq, entry: parsed });
        else options.onBadLine?.(seq + 1, 'not an audit entry');
      } catch {
        options.onBadLine?.(seq + 1, 'not valid JSON (torn write?)');
      }
    });
    return entries;
  }

  return {
    record: (record: AuditRecord) => append({ kind: 'record', record }),
    begin: (record: AuditRecord) => append({ kind: 'intent', record }),
    complete: (changeId: string, completion: AuditCompletion) =>
      append({ kind: 'completion', changeId, completion }),
    async list(query: AuditQuery) {
      await queue; // read our own writes
      return pageAuditRecords(foldAuditLog(await readAll()), query);
    },
    async flush() {
      await queue;
    },
    async close() {
      closed = true;
      await queue;
      if (handle) await (await handle).close();
      handle = undefined;
    },
  };
}
