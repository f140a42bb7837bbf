// Graceful shutdown. Two parts:
// 1. registerShutdown(app) (from buildApp): decorates app.shuttingDown, an AbortSignal that fires
//    when app.close() begins, and app.onShuttingDown(fn) for code that holds a request open (the
//    install long poll): it answers at once with 202 + Location, so the flow engine re-polls
//    another replica. Then close waits (bounded) for the requests still in flight, e.g. an
//    isolation PUT upstream, before Fastify drops the remaining connections; onClose hooks (audit
//    store flush) run after that.
// 2. installGracefulShutdown(app, {timeoutMs}) (from main.ts): on SIGTERM/SIGINT runs app.close()
//    and exits 0, or exits 1 if that takes longer than timeoutMs. A second signal exits at once.
import { setMaxListeners } from 'node:events';
import type { FastifyRequest } from 'fastify';
import { type RelayApp, relayPlugin } from './relay-app.js';

export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

const noop = () => {};

declare module 'fastify' {
  interface FastifyInstance {
    /** Aborts when the app starts closing: answer held long polls with 202 + Location right away. */
    shuttingDown: AbortSignal;
    /**
     * Calls `release` once when the app starts closing (at once if it already has); returns the
     * function that cancels it. For held requests: thousands may wait at once, and a listener on
     * shuttingDown would cost each a scan of all the others (EventTarget checks every listener
     * for a duplicate when one is added) and a listener record.
     */
    onShuttingDown(release: () => void): () => void;
  }
}

export class ShuttingDownError extends Error {
  override readonly name = 'ShuttingDownError';
  constructor() {
    super('The relay is shutting down.');
  }
}

export function registerShutdown(app: RelayApp, opts: { drainTimeoutMs?: number } = {}) {
  const drainTimeoutMs = opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const controller = new AbortController();
  // Every held long poll listens to it: hundreds of listeners are expected, not a leak.
  setMaxListeners(0, controller.signal);
  const inFlight = new Set<FastifyRequest>();
  let onDrained: (() => void) | undefined;

  const settle = (request: FastifyRequest) => {
    if (inFlight.delete(request) && inFlight.size === 0) onDrained?.();
  };
  const releases = new Set<() => void>();
  app.decorate('shuttingDown', controller.signal);
  app.decorate('onShuttingDown', (release: () => void) => {
    if (controller.signal.aborted) {
      release();
      return noop;
    }
    releases.add(release);
    return () => {
      releases.delete(release);
    };
  });
  // Callback-style: an async hook costs a promise and a microtask on every request.
  app.addHook('onRequest', (request, _reply, next) => {
    inFlight.add(request);
    next();
  });
  app.addHook('onResponse', (request, _reply, next) => {
    settle(request);
    next();
  });
  app.addHook('onRequestAbort', (request, next) => {
    settle(request);
    next();
  });
  app.addHook('preClose', async () => {
    controller.abort(new ShuttingDownError());
    for (const release of [...releases]) release();
    releases.clear();
    if (inFlight.size === 0) return;
    app.log.info({ inFlight: inFlight.size }, 'waiting for requests in flight before closing');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        app.log.warn({ inFlight: inFlight.size }, 'requests still in flight after the drain timeout; closing anyway');
        resolve();
      }, drainTimeoutMs);
      onDrained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  });
}

export interface GracefulShutdownOptions {
  /** Hard bound: the process exits (code 1) if closing takes longer. Keep it under the platform's
   *  grace period (Kubernetes / Container Apps: 30 s) and above the drain timeout (10 s). */
  timeoutMs: number;
  signals?: NodeJS.Signals[];
  /** For tests; defaults to process.exit. */
  exit?: (code: number) => void;
}

export function installGracefulShutdown(app: RelayApp, opts: GracefulShutdownOptions) {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  let closing = false;

  const onSignal = (signal: NodeJS.Signals | 'manual') => {
    if (closing) {
      app.log.warn({ signal }, 'second shutdown signal: exiting now');
      exit(1);
      return;
    }
    closing = true;
    app.log.info({ signal, timeoutMs: opts.timeoutMs }, 'shutting down');
    const timer = setTimeout(() => {
      app.log.error({ timeoutMs: opts.timeoutMs }, 'shutdown took too long; exiting');
      exit(1);
    }, opts.timeoutMs);
    // Kept referenced on purpose: whatever hangs the close, this timer still ends the process.
    app.close().then(
      () => {
        clearTimeout(timer);
        app.log.info('shut down cleanly');
        exit(0);
      },
      (err: unknown) => {
        clearTimeout(timer);
        app.log.error({ err }, 'error while shutting down');
        exit(1);
      },
    );
  };
  for (const s of signals) process.on(s, onSignal);
  return {
    /** Starts the same shutdown as a signal would. */
    shutdown: () => onSignal('manual'),
    /** Removes the signal handlers (tests). */
    dispose: () => {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}

/** Decorates app.shuttingDown and tracks requests in flight so a shutdown can drain them. */
export const shutdownPlugin = relayPlugin<{ drainTimeoutMs?: number }>((app, opts) => registerShutdown(app, opts), {
  name: 'relay-shutdown',
});
