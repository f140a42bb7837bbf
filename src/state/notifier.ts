// Completion notices between replicas: when an operation's state changes, whoever learned it
// says so, and every replica's held waits for that key wake up instead of polling for it. The
// embedded default delivers within this process; PostgreSQL (LISTEN/NOTIFY) delivers to every
// replica. Notices are hints, never the record: after onResync (a gap in which notices may have
// been missed) listeners re-read the state they care about.

export type NoticeListener = (key: string, message: string) => void;

export interface ChangeNotifier {
  /** Tells every replica (this one included) that `key` changed; message is a short hint. */
  notify(key: string, message?: string): Promise<void>;
  /** Hears every notice; returns the function that stops listening. */
  subscribe(listener: NoticeListener): () => void;
  /** Called after notices may have been lost (the listening connection was re-established). */
  onResync(listener: () => void): () => void;
  close(): Promise<void>;
}

/** Shared by both implementations: the listener sets and their fan-out. */
export class NoticeListeners {
  private readonly notices = new Set<NoticeListener>();
  private readonly resyncs = new Set<() => void>();

  subscribe(listener: NoticeListener): () => void {
    this.notices.add(listener);
    return () => this.notices.delete(listener);
  }

  onResync(listener: () => void): () => void {
    this.resyncs.add(listener);
    return () => this.resyncs.delete(listener);
  }

  deliver(key: string, message: string) {
    // One listener's failure must not keep the notice from the others.
    for (const listener of [...this.notices]) {
      try {
        listener(key, message);
      } catch {}
    }
  }

  resync() {
    for (const listener of [...this.resyncs]) {
      try {
        listener();
      } catch {}
    }
  }
}

export function createEmbeddedNotifier(): ChangeNotifier {
  const listeners = new NoticeListeners();
  let closed = false;
  return {
    async notify(key, message = '') {
      if (closed) return;
      // Asynchronous like a database notice, so a notifier never runs listeners in its own stack.
      queueMicrotask(() => listeners.deliver(key, message));
    },
    subscribe: (listener) => listeners.subscribe(listener),
    onResync: (listener) => listeners.onResync(listener),
    async close() {
      closed = true;
    },
  };
}
