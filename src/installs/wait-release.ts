// What ends a held wait early: the caller hanging up, or the relay shutting down. Thousands of
// waits may be held at once, so the one a held request makes is a plain object with one slot,
// not an AbortController: per wait that saves an EventTarget with its listener map and records,
// and at the fan-out of a finished install the listener removal per waiter.

export interface WaitRelease {
  readonly released: boolean;
  /** Calls `fn` once on release (at once if already released); returns what cancels that. */
  onRelease(fn: () => void): () => void;
}

const noop = () => {};

/** The release of one held request, for the one wait it holds. */
export class HeldRelease implements WaitRelease {
  released = false;
  private listener: (() => void) | undefined;

  release = (): void => {
    if (this.released) return;
    this.released = true;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  };

  onRelease(fn: () => void): () => void {
    if (this.released) {
      fn();
      return noop;
    }
    if (this.listener) throw new Error('a held request holds one wait: a second listener would replace the first');
    this.listener = fn;
    return () => {
      if (this.listener === fn) this.listener = undefined;
    };
  }
}

/** An AbortSignal as a release (the relay's shutdown signal, tests). */
export function releaseOnAbort(signal: AbortSignal): WaitRelease {
  return {
    get released() {
      return signal.aborted;
    },
    onRelease(fn) {
      if (signal.aborted) {
        fn();
        return noop;
      }
      signal.addEventListener('abort', fn, { once: true });
      return () => signal.removeEventListener('abort', fn);
    },
  };
}
