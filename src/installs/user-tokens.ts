// On-behalf-of polling (UPSTREAM_AUTH=obo). The shared poller of an operation has no request of
// its own, yet every upstream call must be made as a user. It borrows a token:
//   1. the newest token among requests on that operation right now (held long polls, and a
//      credentialed poll for the length of its call) — the freshest proof that a user is there;
//   2. else the remembered token of a caller who started, joined or polled the operation with
//      credentials — the flow engine polls Location without credentials, so without this the
//      starter's own flow could never see its install end. Kept in memory only, and only until
//      the token's own expiry (`exp`): a relay never holds a user's token longer than Entra would
//      honour it. A later caller's token replaces it when it lives longer.
// Tokens are never logged and never leave this process (not in the registry, not in URLs).
import { decodeJwt } from 'jose';

interface HeldToken {
  token: string;
  expiresAt: number;
}

interface OperationTokens {
  attached: HeldToken[];
  remembered?: HeldToken;
}

/** Beyond this many operations the oldest entries go first (memory stays bounded). */
const MAX_OPERATIONS = 10_000;
const SWEEP_EVERY_MS = 60_000;

/** The token's `exp` in epoch ms; undefined when it has none (the auth layer checked it). */
export function tokenExpiresAt(token: string): number | undefined {
  try {
    const exp = decodeJwt(token).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export class OperationUserTokens {
  private readonly byOperation = new Map<string, OperationTokens>();
  private lastSweep = 0;

  constructor(private readonly now: () => number) {}

  /** Remembers a caller's token for the operation until it expires. */
  remember(key: string, token: string): void {
    const held = this.held(token);
    if (!held) return;
    this.sweep();
    const entry = this.entry(key);
    if (!entry.remembered || entry.remembered.expiresAt < held.expiresAt) entry.remembered = held;
  }

  /** A request on the operation carries this token until `detach()`; polls prefer it meanwhile. */
  attach(key: string, token: string): () => void {
    const held = this.held(token);
    if (!held) return () => {};
    const entry = this.entry(key);
    entry.attached.push(held);
    return () => {
      const at = entry.attached.indexOf(held);
      if (at >= 0) entry.attached.splice(at, 1);
    };
  }

  /** The token to poll with: the most recently attached live one, else the remembered one. */
  pick(key: string): string | undefined {
    const entry = this.byOperation.get(key);
    if (!entry) return undefined;
    const now = this.now();
    for (let i = entry.attached.length - 1; i >= 0; i--) {
      const held = entry.attached[i]!;
      if (held.expiresAt > now) return held.token;
    }
    if (entry.remembered && entry.remembered.expiresAt > now) return entry.remembered.token;
    return undefined;
  }

  /** Operations with an entry (for tests). */
  get size(): number {
    return this.byOperation.size;
  }

  private held(token: string): HeldToken | undefined {
    const expiresAt = tokenExpiresAt(token);
    return expiresAt !== undefined && expiresAt > this.now() ? { token, expiresAt } : undefined;
  }

  private entry(key: string): OperationTokens {
    let entry = this.byOperation.get(key);
    if (!entry) {
      if (this.byOperation.size >= MAX_OPERATIONS) this.byOperation.delete(this.byOperation.keys().next().value as string);
      entry = { attached: [] };
      this.byOperation.set(key, entry);
    }
    return entry;
  }

  /** Forgets expired remembered tokens of operations nobody is on right now. */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [key, entry] of this.byOperation) {
      if (entry.attached.length === 0 && (!entry.remembered || entry.remembered.expiresAt <= now)) this.byOperation.delete(key);
    }
  }
}
