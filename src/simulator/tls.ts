// Certificates: the HTTPS server's self-signed certificate (it is its own CA, so clients trust exactly
// this PEM) and the relay app's client certificate for certificate-assertion sign-in.
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { generate } from 'selfsigned';

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

export function serverCertificate(files?: { keyFile: string; certFile: string }): Promise<KeyAndCert> {
  if (files) {
    return Promise.resolve({
      key: readFileSync(files.keyFile, 'utf8'),
      cert: readFileSync(files.certFile, 'utf8'),
    });
  }
  serverCert ??= makeServerCert();
  return serverCert;
}

export function relayAppCertificate(): Promise<KeyAndCert> {
  appCert ??= makeAppCert();
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
