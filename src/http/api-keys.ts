// API-key authentication: keys are configured only as SHA-256 hashes (API_KEYS), so a leaked config
// does not leak a key. Every configured hash is compared in constant time, and all of them are
// always compared, so the response time says nothing about which key or how much of it matched.
import { hash, timingSafeEqual } from 'node:crypto';
import { type ApiKeyEntry, PERMISSIONS, type Permission } from '../config.js';

export const API_KEY_HEADER = 'x-api-key';

export interface ApiKeyMatch {
  name: string;
  permissions: ReadonlySet<Permission>;
}

// crypto.hash: the one-shot form, without a Hash object per call (this runs on every request).
export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

export interface ApiKeyVerifier {
  /** The matching key's name and permissions, or undefined when no configured key matches. */
  verify(presentedKey: string): ApiKeyMatch | undefined;
  /** How many keys are configured (the demo key included); zero means every key is refused. */
  readonly size: number;
}

export function createApiKeyVerifier(entries: readonly ApiKeyEntry[], demoApiKey?: string): ApiKeyVerifier {
  const known = entries.map((e) => ({
    name: e.name,
    digest: Buffer.from(e.sha256.toLowerCase(), 'hex'),
    permissions: new Set<Permission>(e.permissions),
  }));
  // The demo key is given in clear (it is generated for the simulator demo); only its hash is kept.
  if (demoApiKey) {
    known.push({ name: 'demo', digest: Buffer.from(sha256Hex(demoApiKey), 'hex'), permissions: new Set(PERMISSIONS) });
  }
  return {
    size: known.length,
    verify(presentedKey) {
      const presented = hash('sha256', presentedKey, 'buffer');
      let match: (typeof known)[number] | undefined;
      for (const k of known) {
        // Both sides are 32-byte digests, so timingSafeEqual never throws on length.
        if (timingSafeEqual(k.digest, presented) && !match) match = k;
      }
      return match && { name: match.name, permissions: match.permissions };
    },
  };
}
