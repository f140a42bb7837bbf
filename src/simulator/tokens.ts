// The simulator's Entra signing key: mints RS256 JWTs, publishes them as a JWKS, and checks tokens
// presented to the PPAPI/BAP surfaces the way upstream would (signature, expiry, issuer, audience).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { exportJWK, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { createKeyCache } from './key-cache.js';
import type { MintTokenOptions } from './types.js';

export class TokenProblem extends Error {
  constructor(
    readonly reason: 'invalid_token' | 'wrong_audience' | 'expired',
    message: string,
  ) {
    super(message);
  }
}

// One key pair per process: RSA generation is slow and tests start many simulators.
let sharedKeys: { privateKey: KeyObject; publicKey: KeyObject } | undefined;

// Kept between starts (key-cache.ts): generating it blocks the main thread for about 0.3 s.
function signingKeys(): { privateKey: KeyObject; publicKey: KeyObject } {
  const cache = createKeyCache();
  const cached = cache.read<{ privateKeyPem: string }>('token-signing-key-v1', (v) => typeof v?.privateKeyPem === 'string');
  if (cached) {
    try {
      const privateKey = createPrivateKey(cached.privateKeyPem);
      if (privateKey.asymmetricKeyType === 'rsa') return { privateKey, publicKey: createPublicKey(privateKey) };
    } catch {
      // unreadable: make a new one below
    }
  }
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  cache.write('token-signing-key-v1', { privateKeyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) });
  return keys;
}

export class TokenAuthority {
  readonly kid: string;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private publicJwk: JWK | undefined;

  constructor(private readonly origin: () => string) {
    sharedKeys ??= signingKeys();
    this.privateKey = sharedKeys.privateKey;
    this.publicKey = sharedKeys.publicKey;
    const der = this.publicKey.export({ type: 'spki', format: 'der' });
    this.kid = createHash('sha256').update(der).digest('base64url').slice(0, 27);
  }

  issuerFor(tenantId: string): string {
    return `${this.origin()}/${tenantId}/v2.0`;
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    this.publicJwk ??= { ...(await exportJWK(this.publicKey)), kid: this.kid, use: 'sig', alg: 'RS256' };
    return { keys: [this.publicJwk] };
  }

  async sign(
    claims: JWTPayload,
    opts: { kid?: string; expiresInSeconds: number; notBeforeOffsetSeconds?: number },
  ) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ uti: randomUUID().replace(/-/g, ''), ver: '2.0', ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: opts.kid ?? this.kid })
      .setIssuedAt(now)
      .setNotBefore(now + (opts.notBeforeOffsetSeconds ?? 0))
      .setExpirationTime(now + opts.expiresInSeconds)
      .sign(this.privateKey);
  }

  /** Tokens for tests and the relay's inbound auth ("a user signed in to the connector"). */
  mint(o: MintTokenOptions, homeTenantId: string): Promise<string> {
    const tid = o.tenantId ?? homeTenantId;
    const oid = o.oid ?? randomUUID();
    const claims: JWTPayload = {
      aud: o.audience,
      iss: o.issuer ?? this.issuerFor(tid),
      tid,
      oid,
      sub: oid,
      ...(o.upn ? { upn: o.upn, preferred_username: o.upn, name: o.upn.split('@')[0] } : {}),
      ...(o.appid ? { appid: o.appid, azp: o.appid } : {}),
      ...(o.roles ? { roles: o.roles } : {}),
      ...(o.scp ? { scp: o.scp } : {}),
      idtyp: o.scp || o.upn ? 'user' : 'app',
      ...o.extraClaims,
    };
    return this.sign(claims, {
      kid: o.kid,
      expiresInSeconds: o.expiresInSeconds ?? 3600,
      notBeforeOffsetSeconds: o.notBeforeOffsetSeconds,
    });
  }

  /** Verifies signature, lifetime and issuer, then the audience against `audiences`. */
  async verify(token: string, audiences: readonly string[]): Promise<JWTPayload> {
    let payload: JWTPayload;
    try {
      let kid: unknown;
      ({ payload } = await jwtVerify(
        token,
        (header) => {
          kid = header.kid;
          return this.publicKey;
        },
        { algorithms: ['RS256'], clockTolerance: 5 },
      ));
      if (kid !== this.kid)
        throw new Error(`the signing key id '${String(kid)}' is not in the tenant's JWKS`);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') throw new TokenProblem('expired', 'The access token has expired.');
      throw new TokenProblem('invalid_token', `The access token is invalid: ${(err as Error).message}.`);
    }
    const tid = typeof payload['tid'] === 'string' ? payload['tid'] : '';
    if (!tid || payload.iss !== this.issuerFor(tid)) {
      throw new TokenProblem('invalid_token', `The access token has an unexpected issuer '${payload.iss}'.`);
    }
    const auds = Array.isArray(payload.aud) ? payload.aud : [payload.aud ?? ''];
    if (!auds.some((a) => audiences.includes(a))) {
      throw new TokenProblem(
        'wrong_audience',
        `The access token audience '${auds.join(',')}' is not valid for this resource; expected '${audiences[0]}'.`,
      );
    }
    return payload;
  }
}
