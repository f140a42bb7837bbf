// The wait URL handed out as Location. Everything a replica needs to answer it is in the URL
// (environment, operation, package, version, failOnError), and a signed, expiring `sig` makes it
// usable without the connection's credentials, for a GET of exactly that URL and nothing else.
//
// The signature is an HMAC over the exact path and an expiry, keyed by WAIT_URL_SECRET (shared by
// all replicas). How `sig` is read from a URL lives in http/wait-signature.ts, which the auth hook
// uses too, so the two readings cannot disagree.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { RelayError } from '../errors.js';
import type { Caller } from '../http/caller.js';
import { unsignedRequestTarget } from '../http/wait-signature.js';

export { unsignedRequestTarget };

export interface WaitUrlSigner {
  /** Returns the value for the `sig` query parameter. */
  sign(path: string, now: number): string;
  /** 'ok', or why it is refused. */
  verify(path: string, sig: string, now: number): 'ok' | 'malformed' | 'expired' | 'mismatch';
}

export function createWaitUrlSigner(secret: string, ttlMs: number): WaitUrlSigner {
  const mac = (path: string, exp: number) =>
    createHmac('sha256', secret).update(`GET\n${path}\n${exp}`).digest('base64url');
  return {
    sign(path, now) {
      const exp = Math.floor((now + ttlMs) / 1000);
      return `${exp}.${mac(path, exp)}`;
    },
    verify(path, sig, now) {
      // Only the form sign() writes: a changed spelling of the same expiry (leading zeros) must be
      // refused like any other change to the URL, not accepted because it means the same number.
      const m = /^([1-9]\d{0,11})\.([A-Za-z0-9_-]{43})$/.exec(sig);
      if (!m) return 'malformed';
      const exp = Number(m[1]);
      const expected = Buffer.from(mac(path, exp));
      const given = Buffer.from(m[2]!);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'mismatch';
      if (exp * 1000 < now) return 'expired';
      return 'ok';
    },
  };
}


export interface WaitUrlParams {
  environmentId: string;
  operationId: string;
  packageUniqueName: string | null;
  packageVersion?: string | null;
  /** Only written when false, so the default URL stays short. */
  failOnError?: boolean;
}

/** The relay-relative path and query of a wait URL, without the signature. */
export function waitPathAndQuery(p: WaitUrlParams): string {
  const path = `/v1/environments/${encodeURIComponent(p.environmentId)}/operations/${encodeURIComponent(p.operationId)}/wait`;
  const q: string[] = [];
  if (p.packageUniqueName) q.push(`package=${encodeURIComponent(p.packageUniqueName)}`);
  if (p.packageVersion) q.push(`version=${encodeURIComponent(p.packageVersion)}`);
  if (p.failOnError === false) q.push('failOnError=false');
  return q.length ? `${path}?${q.join('&')}` : path;
}

/** GetInstallStatus for the same operation (needs credentials; for makers and Power Apps). */
export function statusPathAndQuery(p: WaitUrlParams): string {
  const path = `/v1/environments/${encodeURIComponent(p.environmentId)}/operations/${encodeURIComponent(p.operationId)}`;
  return p.packageUniqueName ? `${path}?package=${encodeURIComponent(p.packageUniqueName)}` : path;
}

export class WaitUrls {
  constructor(
    private readonly signer: WaitUrlSigner,
    private readonly now: () => number,
  ) {}

  /** Absolute, signed wait URL. */
  signedUrl(origin: string, p: WaitUrlParams): string {
    return this.signTarget(origin, waitPathAndQuery(p));
  }

  /** Absolute, signed URL of any relay-relative GET target (a rollout's wait URL too). */
  signTarget(origin: string, target: string): string {
    const sig = this.signer.sign(target, this.now());
    return `${origin}${target}${target.includes('?') ? '&' : '?'}sig=${sig}`;
  }

  /**
   * Throws 401 unless the request's `sig` covers exactly this request's path and query. Only a
   * caller the auth layer established from credentials may come without a `sig`: a 'waitToken'
   * caller (let in on a signature) or an unknown one must have one that verifies. The absence of
   * a signature is never taken as "nothing to check".
   */
  verify(rawUrl: string, caller: Pick<Caller, 'kind'> | undefined): void {
    const { target, sig } = unsignedRequestTarget(rawUrl);
    const credentialed = caller !== undefined && caller.kind !== 'waitToken';
    if (sig === undefined && credentialed) return;
    const verdict = sig === undefined || sig === '' ? 'malformed' : this.signer.verify(target, sig, this.now());
    if (verdict === 'ok') return;
    const why = {
      malformed: 'is malformed',
      expired: 'has expired',
      mismatch: 'does not match this URL (it was changed, or it belongs to another URL or relay)',
    }[verdict];
    throw new RelayError(
      401,
      'InvalidWaitToken',
      `The wait URL's signature ${why}. Use the Location URL exactly as InstallPackage returned it, or call GetInstallStatus with the connection's credentials.`,
      { target: 'sig', headers: { 'www-authenticate': 'Bearer realm="admin-relay"' } },
    );
  }
}
