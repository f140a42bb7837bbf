// Change notices over LISTEN/NOTIFY. Listening needs a session of its own, so it runs on a
// dedicated connection straight to the server (PgBouncer's transaction pooling would drop it),
// re-established with backoff when it breaks; each re-establishment is a resync, since notices
// sent meanwhile are gone. Sending is an ordinary statement on the pool.
import pg from 'pg';
import { type ChangeNotifier, NoticeListeners } from '../notifier.js';

export const NOTICE_CHANNEL = 'admin_relay_changes';

export interface PostgresNotifierOptions {
  /** Connection settings for the dedicated listening connection. */
  listenConfig: pg.ClientConfig;
  /** Told when the listening connection breaks and when it is back (for logs and readiness). */
  onState?: (state: 'listening' | 'reconnecting', err?: Error) => void;
  /** Backoff between reconnection attempts (ms). */
  minRetryMs?: number;
  maxRetryMs?: number;
}

export interface PostgresNotifier extends ChangeNotifier {
  /** Resolves once the first LISTEN is in place. */
  ready(): Promise<void>;
  readonly listening: boolean;
}

export function createPostgresNotifier(pool: pg.Pool, options: PostgresNotifierOptions): PostgresNotifier {
  const listeners = new NoticeListeners();
  const minRetryMs = options.minRetryMs ?? 100;
  const maxRetryMs = options.maxRetryMs ?? 5_000;
  let client: pg.Client | undefined;
  let listening = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryMs = minRetryMs;
  let firstListen!: () => void;
  const ready = new Promise<void>((resolve) => (firstListen = resolve));
  let everListened = false;

  const scheduleReconnect = (err?: Error) => {
    if (closed || retryTimer) return;
    listening = false;
    options.onState?.('reconnecting', err);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, retryMs);
    retryMs = Math.min(maxRetryMs, retryMs * 2);
  };

  const connect = async () => {
    const c = new pg.Client(options.listenConfig);
    client = c;
    c.on('error', (err) => {
      if (client === c) scheduleReconnect(err);
    });
    c.on('end', () => {
      if (client === c) scheduleReconnect();
    });
    c.on('notification', (n) => {
      if (n.channel !== NOTICE_CHANNEL || !n.payload) return;
      try {
        const { key, message } = JSON.parse(n.payload) as { key: string; message: string };
        listeners.deliver(key, message);
      } catch {}
    });
    try {
      await c.connect();
      await c.query(`listen ${NOTICE_CHANNEL}`);
    } catch (err) {
      c.end().catch(() => {});
      if (client === c) scheduleReconnect(err as Error);
      return;
    }
    if (closed) {
      await c.end().catch(() => {});
      return;
    }
    listening = true;
    retryMs = minRetryMs;
    options.onState?.('listening');
    if (everListened) listeners.resync();
    everListened = true;
    firstListen();
  };
  void connect();

  return {
    async notify(key, message = '') {
      await pool.query('select pg_notify($1, $2)', [NOTICE_CHANNEL, JSON.stringify({ key, message })]);
    },
    subscribe: (listener) => listeners.subscribe(listener),
    onResync: (listener) => listeners.onResync(listener),
    ready: () => ready,
    get listening() {
      return listening;
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      const c = client;
      client = undefined;
      listening = false;
      await c?.end().catch(() => {});
    },
  };
}
