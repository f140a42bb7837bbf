// Verifies Entra ID access tokens: RS256 only, signed by a key from the issuing tenant's JWKS
// (cached, refetched when a token names an unknown kid), issued by an allowed tenant (v1 or v2
// issuer form), for this relay's audience, within its validity window (60 s skew).
// A failure carries a sentence for the caller (error_description) and a short reason for metrics.
import { readFileSync } from 'node:fs';
import {
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  type FetchImplementation,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { PERMISSIONS, type Permission } from '../config.js';
import { secureContextWithExtraCa } from '../trust-store.js';
import { printableAscii } from './printable-text.js';

export const CLOCK_SKEW_SECONDS = 60;
const ALLOWED_ALGORITHMS = ['RS256'];

export interface EntraIdentity {
  kind: 'user' | 'app';
  /** oid (object id of the user or service principal). */
  id: string;
  /** upn / preferred_username for users, appid / azp for apps. */
  name: string;
  tenantId: string;
  appId?: string;
  permissions: Set<Permission>;
}

/**
 * What WWW-Authenticate's error_description says per reason: fixed text, never a value from the
 * token, because a header cannot carry CR/LF or wide characters (Node refuses the whole answer)
 * and must not echo what an attacker chose. The JSON body says more (`description`).
 */
const CHALLENGE_TEXT: Record<string, string> = {
  malformed: 'the token is not a well-formed JWT',
  algorithm: 'only RS256 tokens from Entra ID are accepted',
  config: 'the relay has no ENTRA_AUDIENCE configured',
  tenant: 'the token tenant is not allowed',
  expired: 'the token has expired',
  audience: 'the token is for another audience',
  issuer: 'the token issuer is not accepted',
  not_yet_valid: 'the token is not valid yet',
  unknown_key: 'the token signing key is unknown',
  signature: 'the token signature does not verify',
  jwks_unavailable: 'the signing keys could not be loaded',
};

/** Why a token was refused. `unavailable` means we could not get the signing keys (our problem, 503). */
export class EntraTokenError extends Error {
  override readonly name = 'EntraTokenError';
  /** For the JSON body: a sentence, printable ASCII, token values quoted in shortened form. */
  readonly description: string;
  constructor(
    readonly reason: string,
    description: string,
    readonly unavailable = false,
  ) {
    const text = printableAscii(description, 400);
    super(text);
    this.description = text;
  }

  /** For WWW-Authenticate: fixed text per reason, nothing taken from the token. */
  get challengeDescription(): string {
    return CHALLENGE_TEXT[this.reason] ?? 'the token is not valid';
  }
}

export interface EntraVerifierOptions {
  authorityHost: string;
  audiences: readonly string[];
  allowedTenants: readonly string[];
  /** Extra CA (PEM file) to trust for the JWKS endpoint: the simulator's self-signed CA. */
  caFile?: string;
  /** Minimum time between two JWKS refetches triggered by unknown kids (jose default 30 s). */
  refetchCooldownMs?: number;
  now?: () => number;
}

export interface EntraVerifier {
  verify(token: string): Promise<EntraIdentity>;
  close(): Promise<void>;
}

const canonicalPermission = new Map<string, Permission>(PERMISSIONS.map((p) => [p.toLowerCase(), p]));

/** App roles (`roles`) and delegated scopes (`scp`, space separated) that name a relay permission.
 *  Matched case-insensitively, so Entra's customary `Packages.Read` works as well as `packages.read`. */
export function permissionsFromClaims(claims: JWTPayload): Set<Permission> {
  const granted = new Set<Permission>();
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  const scopes = typeof claims.scp === 'string' ? claims.scp.split(' ') : [];
  for (const value of [...roles, ...scopes]) {
    if (typeof value !== 'string') continue;
    const p = canonicalPermission.get(value.trim().toLowerCase());
    if (p) granted.add(p);
  }
  return granted;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

export function identityFromClaims(claims: JWTPayload): EntraIdentity {
  const tenantId = str(claims.tid)!.toLowerCase();
  const appId = str(claims.appid) ?? str(claims.azp);
  // Delegated tokens carry scp; app-only tokens carry roles only (idtyp=app when requested).
  const isUser = claims.scp !== undefined || claims.idtyp === 'user' || str(claims.upn) !== undefined;
  const userName = str(claims.upn) ?? str(claims.preferred_username) ?? str(claims.unique_name) ?? str(claims.email);
  const id = str(claims.oid) ?? str(claims.sub) ?? appId ?? 'unknown';
  return {
    kind: isUser ? 'user' : 'app',
    id,
    name: (isUser ? userName : appId) ?? id,
    tenantId,
    appId,
    permissions: permissionsFromClaims(claims),
  };
}

function fetchTrusting(dispatcher: Agent | undefined): FetchImplementation | undefined {
  if (!dispatcher) return undefined;
  const viaAgent = (url: string, options: Parameters<FetchImplementation>[1]) =>
    undiciFetch(url, {
      method: options.method,
      redirect: options.redirect,
      signal: options.signal,
      headers: Object.fromEntries(options.headers.entries()),
      dispatcher,
    });
  return viaAgent as unknown as FetchImplementation;
}

/** v1 tokens name the STS, not the authority: sts.windows.net, except in the China cloud. */
function v1IssuerHost(authority: string): string {
  return /chinacloudapi\.cn/i.test(authority) ? 'https://sts.chinacloudapi.cn' : 'https://sts.windows.net';
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createEntraVerifier(opts: EntraVerifierOptions): EntraVerifier {
  const authority = opts.authorityHost.replace(/\/+$/, '');
  const allowed = new Set(opts.allowedTenants.map((t) => t.toLowerCase()));
  const agent = opts.caFile
    ? new Agent({ connect: { secureContext: secureContextWithExtraCa(readFileSync(opts.caFile, 'utf8')) } })
    : undefined;
  const fetchImpl = fetchTrusting(agent);
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  // One key set per allowed tenant, created on first use. Only allowed tenants get one, so a
  // token cannot make us fetch from an arbitrary URL.
  const keySetFor = (tenantId: string) => {
    let set = keySets.get(tenantId);
    if (!set) {
      set = createRemoteJWKSet(new URL(`${authority}/${tenantId}/discovery/v2.0/keys`), {
        cooldownDuration: opts.refetchCooldownMs ?? 30_000,
        cacheMaxAge: 60 * 60_000,
        timeoutDuration: 5_000,
        ...(fetchImpl && { [customFetch]: fetchImpl }),
      });
      keySets.set(tenantId, set);
    }
    return set;
  };

  return {
    async close() {
      await agent?.close();
    },
    async verify(token) {
      let claims: JWTPayload;
      let alg: string | undefined;
      try {
        alg = decodeProtectedHeader(token).alg;
        claims = decodeJwt(token);
      } catch {
        throw new EntraTokenError('malformed', 'The bearer token is not a well-formed JWT.');
      }
      if (!alg || !ALLOWED_ALGORITHMS.includes(alg)) {
        throw new EntraTokenError('algorithm', `The token is signed with ${printableAscii(JSON.stringify(alg ?? 'none'), 40)}; only RS256 tokens from Entra ID are accepted.`);
      }
      if (opts.audiences.length === 0) {
        throw new EntraTokenError('config', 'This relay has no ENTRA_AUDIENCE configured, so it accepts no Entra ID token; set it to the relay app id URI and client id.');
      }
      const tid = str(claims.tid)?.toLowerCase();
      if (!tid || !GUID.test(tid)) {
        throw new EntraTokenError('tenant', 'The token has no tenant id (tid); use an Entra ID access token issued for this relay.');
      }
      if (!allowed.has(tid)) {
        throw new EntraTokenError('tenant', `Tenant ${tid} is not allowed to call this relay; add it to ENTRA_ALLOWED_TENANTS if it should be.`);
      }
      const issuers = [`${v1IssuerHost(authority)}/${tid}/`, `${authority}/${tid}/v2.0`];
      try {
        const { payload } = await jwtVerify(token, keySetFor(tid), {
          algorithms: ALLOWED_ALGORITHMS,
          issuer: issuers,
          audience: [...opts.audiences],
          clockTolerance: CLOCK_SKEW_SECONDS,
          requiredClaims: ['exp', 'iss', 'aud', 'tid'],
          ...(opts.now && { currentDate: new Date(opts.now()) }),
        });
        return identityFromClaims(payload);
      } catch (err) {
        throw describeJoseError(err, claims, issuers, opts.audiences);
      }
    },
  };
}

function describeJoseError(err: unknown, claims: JWTPayload, issuers: string[], audiences: readonly string[]): EntraTokenError {
  const e = err as { code?: string; claim?: string; message?: string };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return new EntraTokenError('expired', 'The token has expired; get a new one (Power Automate does this when the connection is refreshed).');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.claim === 'aud')
        return new EntraTokenError('audience', `The token is for audience ${printableAscii(JSON.stringify(claims.aud))}, not this relay (${audiences.join(', ')}); request it for the relay's app id URI.`);
      if (e.claim === 'iss')
        return new EntraTokenError('issuer', `The token issuer ${printableAscii(JSON.stringify(claims.iss))} is not accepted; expected ${issuers.join(' or ')}.`);
      if (e.claim === 'nbf')
        return new EntraTokenError('not_yet_valid', 'The token is not valid yet (nbf is in the future); check the clock of the machine that issued it.');
      return new EntraTokenError('claims', `The token's ${e.claim ?? 'claims'} claim is not valid: ${e.message ?? 'check failed'}.`);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new EntraTokenError('algorithm', 'Only RS256 tokens from Entra ID are accepted.');
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new EntraTokenError('unknown_key', "The token is signed with a key (kid) that is not among the tenant's Entra ID signing keys.");
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new EntraTokenError('signature', 'The token signature does not verify against the tenant\'s Entra ID signing keys.');
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return new EntraTokenError('malformed', 'The bearer token is not a well-formed JWT.');
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return new EntraTokenError('jwks_unavailable', 'The relay could not load the Entra ID signing keys to check the token; try again shortly.', true);
    default:
      if (typeof e.code === 'string' && e.code.startsWith('ERR_J'))
        return new EntraTokenError('invalid', `The token is not valid: ${e.message ?? e.code}.`);
      // A network failure fetching the JWKS surfaces as a plain error.
      return new EntraTokenError('jwks_unavailable', 'The relay could not load the Entra ID signing keys to check the token; try again shortly.', true);
  }
}
