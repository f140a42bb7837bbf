// A small Entra ID stand-in for what the simulator cannot do on demand: rotate its signing key and
// stop serving its JWKS. An HTTP JWKS on 127.0.0.1 and a minter with sim.control.mintToken's options.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { MintTokenOptions } from '../../../src/simulator/types.js';

/** The simulator's mint options, with the audience optional (the local minter has a default). */
export type MintOptions = Omit<MintTokenOptions, 'audience'> & { audience?: string };

export async function startLocalEntra() {
  const tenantId = randomUUID();
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `key-${randomUUID().slice(0, 8)}`;
  const keys: Array<Record<string, unknown>> = [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }];
  let signingKey = privateKey;
  let signingKid = kid;
  let fetches = 0;
  const server = createServer((req, res) => {
    if (req.url === `/${tenantId}/discovery/v2.0/keys`) {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function mintToken(o: MintOptions = {}): Promise<string> {
    const tid = o.tenantId ?? tenantId;
    const now = Math.floor(Date.now() / 1000);
    const nbf = now + (o.notBeforeOffsetSeconds ?? 0);
    const claims: Record<string, unknown> = { tid, oid: o.oid ?? randomUUID(), ...o.extraClaims };
    if (o.upn) claims.upn = o.upn;
    if (o.appid) claims.appid = o.appid;
    if (o.roles) claims.roles = o.roles;
    if (o.scp) claims.scp = o.scp;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: o.kid ?? signingKid })
      .setIssuer(o.issuer ?? `https://sts.windows.net/${tid}/`)
      .setAudience(o.audience ?? 'api://admin-relay')
      .setIssuedAt(nbf)
      .setNotBefore(nbf)
      .setExpirationTime(now + (o.expiresInSeconds ?? 3600))
      .sign(signingKey);
  }

  /** Key rollover as Entra does it: publish a new key and sign with it from now on. */
  async function rotate() {
    const next = await generateKeyPair('RS256', { extractable: true });
    signingKid = `key-${randomUUID().slice(0, 8)}`;
    signingKey = next.privateKey;
    keys.push({ ...(await exportJWK(next.publicKey)), kid: signingKid, alg: 'RS256', use: 'sig' });
  }

  return {
    origin,
    tenantId,
    kid,
    publicKey,
    mintToken,
    rotate,
    jwksFetches: () => fetches,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
