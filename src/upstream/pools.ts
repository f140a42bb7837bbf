// One undici Pool per upstream origin (PPAPI, BAP, Entra; a single origin with the simulator),
// with keep-alive and explicit timeouts, trusting the system CAs plus UPSTREAM_CA_FILE. Both our
// HTTP core and the @azure/identity HttpClient draw from here, so TLS trust is configured once.
import { readFileSync } from 'node:fs';
import type { SecureContext } from 'node:tls';
import { Pool } from 'undici';
import { secureContextWithExtraCa } from '../trust-store.js';

export interface PoolTimeouts {
  connectMs: number;
  headersMs: number;
  bodyMs: number;
  keepAliveMs: number;
}

export const DEFAULT_POOL_TIMEOUTS: PoolTimeouts = {
  connectMs: 10_000,
  headersMs: 30_000,
  bodyMs: 30_000,
  keepAliveMs: 30_000,
};

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();
  /** Built once: passing `ca` instead would parse the ~140 root certificates on every new connection (~18 ms each). */
  private readonly secureContext: SecureContext | undefined;
  private closed = false;

  constructor(
    caFile: string | undefined,
    private readonly timeouts: PoolTimeouts = DEFAULT_POOL_TIMEOUTS,
  ) {
    // Extra CA on top of the system roots, so a private CA (the simulator's) does not stop the
    // real Microsoft hosts from verifying.
    this.secureContext = caFile ? secureContextWithExtraCa(readCaFile(caFile)) : undefined;
  }

  forOrigin(origin: string): Pool {
    if (this.closed) throw new Error('upstream connection pools are closed');
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: 32,
        keepAliveTimeout: this.timeouts.keepAliveMs,
        keepAliveMaxTimeout: 10 * this.timeouts.keepAliveMs,
        headersTimeout: this.timeouts.headersMs,
        bodyTimeout: this.timeouts.bodyMs,
        connect: { timeout: this.timeouts.connectMs, ...(this.secureContext ? { secureContext: this.secureContext } : {}) },
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map((p) => p.close()));
  }
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`UPSTREAM_CA_FILE: cannot read "${path}" (${(err as Error).message}); point it at a PEM file`);
  }
}
