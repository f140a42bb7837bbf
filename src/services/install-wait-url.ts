// The wait URL handed out as Location. Everything a replica needs to answer it is in the URL
// (environment, operation, package, version, failOnError), and a signed, expiring `sig` makes it
// usable without the connection's credentials, for a GET of exactly that URL and nothing else.
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Caller } from '../http/caller.js';
import { RelayError } from '../http/errors.js';
import { forwardedOrigin } from '../http/forwarded-origin.js';
import type { WaitUrlSigner } from '../http/wait-url-token.js';

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

/**
 * What Location must start with: PUBLIC_BASE_URL, or behind a trusted proxy the forwarded host
 * under PUBLIC_BASE_URL's path prefix (the proxy strips it before the relay sees the request, so
 * it is only known from configuration). Without X-Forwarded-Proto the scheme is PUBLIC_BASE_URL's:
 * the hop from the proxy is often plain http while callers use https. A forwarded host or scheme
 * that is not well formed, or a host outside PUBLIC_HOSTS when that is set, is ignored.
 */
export function publicOrigin(
  request: Pick<FastifyRequest, 'headers'>,
  config: Pick<Config, 'publicBaseUrl' | 'trustProxy'> & Partial<Pick<Config, 'publicHosts'>>,
): string {
  if (!config.trustProxy) return config.publicBaseUrl;
  const forwarded = forwardedOrigin(request.headers, config.publicHosts ?? []);
  if (!forwarded) return config.publicBaseUrl;
  const base = new URL(config.publicBaseUrl);
  const protocol = forwarded.protocol ?? base.protocol.replace(/:$/, '');
  return `${protocol}://${forwarded.host}${base.pathname.replace(/\/+$/, '')}`;
}

/**
 * The request URL with `sig` taken out: what the signature covers. `waitSeconds` is left out of
 * it too: how long a request is held changes nothing about what it may read, and it lets an HTTP
 * action (or a benchmark) long-poll the Location URL as given.
 */
export function unsignedRequestTarget(rawUrl: string): { target: string; sig: string | undefined } {
  const at = rawUrl.indexOf('?');
  if (at < 0) return { target: rawUrl, sig: undefined };
  let sig: string | undefined;
  let sigs = 0;
  const kept: string[] = [];
  for (const part of rawUrl.slice(at + 1).split('&')) {
    if (part.startsWith('sig=')) {
      sigs++;
      sig = part.slice(4);
    } else if (part !== '' && !part.startsWith('waitSeconds=')) kept.push(part);
  }
  // Two signatures are one too many: refuse rather than guess which one counts.
  if (sigs > 1) sig = '';
  const path = rawUrl.slice(0, at);
  return { target: kept.length ? `${path}?${kept.join('&')}` : path, sig };
}

export class WaitUrls {
  constructor(
    private readonly signer: WaitUrlSigner,
    private readonly now: () => number,
  ) {}

  /** Absolute, signed wait URL. */
  signedUrl(origin: string, p: WaitUrlParams): string {
    const target = waitPathAndQuery(p);
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
