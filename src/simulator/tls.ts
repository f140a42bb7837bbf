// Certificates: the HTTPS server's self-signed certificate (it is its own CA, so clients trust exactly
// this PEM) and the relay app's client certificate for certificate-assertion sign-in.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { generate } from 'selfsigned';
import { createKeyCache, type KeyCache } from './key-cache.js';

export interface KeyAndCert {
  key: string;
  cert: string;
}

// Generated once per process: RSA key generation is slow and tests start many simulators.
let serverCert: Promise<KeyAndCert> | undefined;
let appCert: Promise<KeyAndCert> | undefined;

async function makeServerCert(): Promise<KeyAndCert> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const pems = await generate([{ name: 'commonName', value: 'Admin Relay upstream simulator' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 365 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

async function makeAppCert(): Promise<KeyAndCert> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const pems = await generate([{ name: 'commonName', value: 'Admin Relay (simulated app registration)' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 365 * 86_400_000),
  });
  return { key: pems.private, cert: pems.cert };
}

const DAY_MS = 86_400_000;

/** A cached pair is reused while its certificate is valid for at least another week and the key is its own. */
export function stillUsable(pair: KeyAndCert, now = Date.now()): boolean {
  try {
    const cert = new X509Certificate(pair.cert);
    return Date.parse(cert.validFrom) <= now && Date.parse(cert.validTo) > now + 7 * DAY_MS && cert.checkPrivateKey(createPrivateKey(pair.key));
  } catch {
    return false;
  }
}

// The name carries a version: change what make*Cert produces and bump it, so old files are not reused.
async function cachedPair(name: string, make: () => Promise<KeyAndCert>, cache: KeyCache): Promise<KeyAndCert> {
  const cached = cache.read<KeyAndCert>(name, stillUsable);
  if (cached) return { key: cached.key, cert: cached.cert };
  const made = await make();
  cache.write(name, made);
  return made;
}

export function serverCertificate(files?: { keyFile: string; certFile: string }): Promise<KeyAndCert> {
  if (files) {
    return Promise.resolve({
      key: readFileSync(files.keyFile, 'utf8'),
      cert: readFileSync(files.certFile, 'utf8'),
    });
  }
  serverCert ??= cachedPair('server-cert-v1', makeServerCert, createKeyCache());
  return serverCert;
}

export function relayAppCertificate(): Promise<KeyAndCert> {
  appCert ??= cachedPair('relay-app-cert-v1', makeAppCert, createKeyCache());
  return appCert;
}

/** The x5t / x5t#S256 thumbprints Entra matches a client assertion's header against. */
export function thumbprints(certPem: string): { sha1: string; sha256: string } {
  const der = new X509Certificate(certPem).raw;
  return {
    sha1: createHash('sha1').update(der).digest('base64url'),
    sha256: createHash('sha256').update(der).digest('base64url'),
  };
}
